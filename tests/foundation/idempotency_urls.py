from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

CALLS = []


@csrf_exempt
def counter(request):
    CALLS.append(request.body)
    return JsonResponse({"data": {"count": len(CALLS)}}, status=201)


urlpatterns = [path("api/counter", counter)]
