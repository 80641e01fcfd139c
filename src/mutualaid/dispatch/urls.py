from mutualaid.dispatch.views import duty, matching, supply

app_name = "dispatch"

urlpatterns = [*duty.urlpatterns, *matching.urlpatterns, *supply.urlpatterns]
