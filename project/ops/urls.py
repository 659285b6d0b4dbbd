from django.urls import path

from project.ops.views import ops_page

app_name = "ops"

urlpatterns = [
    path("", ops_page, name="page"),
]
