"""The engine configuration refuses combinations wasmtime would abort the process on."""

import pytest
from edgehost.config import SandboxLimits
from edgehost.sandbox.engine_config import engine_config


def test_an_async_stack_smaller_than_the_wasm_stack_is_refused_with_a_clear_error():
    with pytest.raises(ValueError, match="async_stack_bytes = 524288 must exceed max_wasm_stack"):
        engine_config(SandboxLimits(async_stack_bytes=512 * 1024, max_wasm_stack=512 * 1024))


def test_the_default_limits_make_a_valid_engine_config():
    engine_config(SandboxLimits())
