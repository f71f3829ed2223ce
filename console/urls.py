"""The console's pages, one list per area (each area's module holds its own routes)."""

from console.views import (
    audience,
    auth,
    campaigns,
    engine,
    funder,
    home,
    inbox,
    lexicon,
    library,
    network,
    progress,
    review,
    setup,
    simulator,
    waves,
)

app_name = "console"

urlpatterns = [
    *auth.urlpatterns,
    *home.urlpatterns,
    *campaigns.urlpatterns,
    *waves.urlpatterns,
    *review.urlpatterns,
    *progress.urlpatterns,
    *audience.urlpatterns,
    *inbox.urlpatterns,
    *setup.urlpatterns,
    *simulator.urlpatterns,
    *funder.urlpatterns,
    *lexicon.urlpatterns,
    *library.urlpatterns,
    *network.urlpatterns,
    *engine.urlpatterns,
]
