import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import RedisServer, Service  # noqa: E402


@pytest.fixture
def redis_server():
    server = RedisServer().start()
    yield server
    server.close()


@pytest.fixture
def service(redis_server):
    svc = Service(redis_server.url).start()
    yield svc
    svc.stop()
