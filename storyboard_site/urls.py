from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.staticfiles.views import serve as serve_static
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from projects import private_media

urlpatterns = [
    path("admin/", admin.site.urls),
    # Pages name the icon; this is for those that don't (the admin) and asks by habit.
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="registration/login.html"),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("storyboard.urls")),
    path("", include("generation.urls")),
    path("", include("exports.urls")),
    # Every file a user makes, to its owner only (also where a proxy must send /media/).
    re_path(rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.+)$", private_media.serve, name="media"),
]

if settings.SERVE_FILES:
    # The embedded default is one daphne process with no proxy in front of it.
    urlpatterns += [
        re_path(r"^static/(?P<path>.*)$", serve_static, {"insecure": True}),
    ]
