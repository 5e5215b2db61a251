"""params.interpret remembers the short values a fleet repeats: the
remembered reading must be the one each param would get on its own, and
a secret must not be kept."""

from __future__ import annotations

from awgcheck import params


def _spec(name: str) -> params.ParamSpec:
    found = params.spec(name)
    assert found is not None
    return found


def test_interpret_names_the_param_it_reads_even_for_a_value_read_before() -> None:
    # S3 and S4 are both u16: the same out-of-range text read for each
    # must name each, not the first one asked.
    s3 = params.interpret(_spec("S3"), "70000")
    s4 = params.interpret(_spec("S4"), "70000")
    assert s3.effective is s4.effective is None
    assert s3.error is not None and "S3" in s3.error
    assert s4.error is not None and "S4" in s4.error and "S3" not in s4.error


def test_interpret_reads_the_same_text_alike_for_different_kinds() -> None:
    # "5-9" is a range to H1 and garbage to Jc.
    assert params.interpret(_spec("H1"), "5-9").effective == "5-9"
    assert params.interpret(_spec("Jc"), "5-9").effective is None
    assert params.interpret(_spec("H1"), "5-9").effective == "5-9"


def test_interpret_keeps_no_secret_it_read() -> None:
    key = "arnx6499M4j0+dWG9m6Z/VQIDfLERvDlhmiwnAihbdA="
    kept = params._interpret_short.cache_info().currsize
    reading = params.interpret(_spec("PrivateKey"), key)
    assert reading.error is None
    assert params._interpret_short.cache_info().currsize == kept
