from django.urls import path

from outreach.webhooks import meta, telegram, twilio

urlpatterns = [
    path(
        "twilio/<uuid:channel_uuid>/inbound/",
        twilio.TwilioInboundView.as_view(),
        name="twilio-inbound",
    ),
    path(
        "twilio/<uuid:channel_uuid>/status/",
        twilio.TwilioStatusView.as_view(),
        name="twilio-status",
    ),
    path(
        "telegram/<uuid:channel_uuid>/",
        telegram.TelegramUpdateView.as_view(),
        name="telegram-update",
    ),
    path(
        "whatsapp/<uuid:channel_uuid>/",
        meta.WhatsAppCloudWebhookView.as_view(),
        name="whatsapp-cloud-webhook",
    ),
    path(
        "messenger/<uuid:channel_uuid>/",
        meta.MessengerWebhookView.as_view(),
        name="messenger-webhook",
    ),
]
