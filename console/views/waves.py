"""Console pages: waves (being built)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
