from __future__ import annotations

from pathlib import Path

from safeguard.services.demo.service_seed import DEMO_LIST, seed_demo_service
from safeguard.services.platform.api_keys import ApiKeyService
from tests.unit.services.service_stack import build_stack


def test_demo_seed_gives_a_perceptual_match(tmp_path: Path) -> None:
    stack = build_stack()
    keys = ApiKeyService(stack.store)
    seed = seed_demo_service(stack.admin, keys, stack.matching, tmp_path)
    again = seed_demo_service(stack.admin, keys, stack.matching, tmp_path)
    assert stack.admin.get_list(DEMO_LIST).entry_count == 3
    assert keys.authenticate(seed.token) is not None
    assert keys.authenticate(again.token) is not None
    result = stack.matching.match_upload(seed.sample.read_bytes())
    assert result.outcome.block
    assert result.matches[0].entry_id == "stand-in-101"
    assert "/v1/match" in seed.curl_command()
    assert seed.token in seed.curl_command()
