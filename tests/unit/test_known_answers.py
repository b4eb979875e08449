"""Meta's known answer, once for every code that signs or verifies ``X-Hub-Signature-256``.

A delivery Meta signed (``tests/known_answers.py`` says where it comes from) must get Meta's
signature from each signer hilft has — the Meta and Threads parsers and the test/bench/demo
delivery builder — and pass each verifier; one changed byte must fail them all.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

import deliveries
from hilft.channels.meta import parse as meta
from hilft.channels.threads import parse as threads
from hilft.core.errors import InvalidSignature
from tests.known_answers import META_APP_SECRET, META_SIGNATURE, META_SIGNED_BODY

TAMPERED = META_SIGNED_BODY.replace(b"PyWa.", b"PyWa!")

SIGNERS: dict[str, Callable[[bytes, str], str]] = {
    "meta parser": meta.sign,
    "threads parser": threads.sign,
    "delivery builder": deliveries.hub_signature,
    "delivery builder, Meta headers": lambda body, secret: deliveries.meta_headers(body, secret)["X-Hub-Signature-256"],
    "delivery builder, Threads headers": lambda body, secret: deliveries.threads_headers(body, secret)[
        "X-Hub-Signature-256"],
}
VERIFIERS: dict[str, Callable[[bytes, str | None, str | None], None]] = {
    "meta parser": meta.verify_signature,
    "threads parser": threads.verify_signature,
}


@pytest.mark.parametrize("sign", SIGNERS.values(), ids=SIGNERS.keys())
def test_each_signer_gives_the_signature_meta_gave(sign: Callable[[bytes, str], str]) -> None:
    assert sign(META_SIGNED_BODY, META_APP_SECRET) == META_SIGNATURE
    assert sign(TAMPERED, META_APP_SECRET) != META_SIGNATURE


@pytest.mark.parametrize("verify", VERIFIERS.values(), ids=VERIFIERS.keys())
def test_each_verifier_accepts_meta_s_signature_in_either_case_and_refuses_a_changed_byte(
        verify: Callable[[bytes, str | None, str | None], None]) -> None:
    verify(META_SIGNED_BODY, META_SIGNATURE, META_APP_SECRET)
    verify(META_SIGNED_BODY, "sha256=" + META_SIGNATURE.removeprefix("sha256=").upper(), META_APP_SECRET)
    with pytest.raises(InvalidSignature):
        verify(TAMPERED, META_SIGNATURE, META_APP_SECRET)
