"""TokenSigner.decode remembers verified tokens; what it remembers must not weaken a check."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from pers.auth import tokens
from pers.auth.errors import InvalidToken
from pers.auth.models import ApiKeyType
from pers.auth.tokens import TokenSigner
from pers.kit.enums import Environment

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def issue(signer: TokenSigner, ttl: timedelta | None = timedelta(minutes=5)) -> str:
    return signer.issue(
        typ=ApiKeyType.USER_JWT_ACCESS_TOKEN,
        tenant_id=uuid.uuid4(),
        environment=Environment.TESTNET,
        subject=str(uuid.uuid4()),
        now=NOW,
        ttl=ttl,
        jti=uuid.uuid4(),
    )


def test_a_remembered_token_still_expires() -> None:
    signer = TokenSigner(ec.generate_private_key(ec.SECP256R1()), "https://pers.test")
    token = issue(signer)
    assert signer.decode(token, now=NOW)["typ"] == "USER_JWT_ACCESS_TOKEN"
    assert signer.decode(token, now=NOW + timedelta(minutes=4))["typ"] == "USER_JWT_ACCESS_TOKEN"
    with pytest.raises(InvalidToken, match="expired"):
        signer.decode(token, now=NOW + timedelta(minutes=5))


def test_rejections_are_not_remembered_and_tampering_is_caught() -> None:
    signer = TokenSigner(ec.generate_private_key(ec.SECP256R1()), "https://pers.test")
    other = TokenSigner(ec.generate_private_key(ec.SECP256R1()), "https://pers.test")
    foreign = issue(other)
    for _ in range(2):
        with pytest.raises(InvalidToken, match="rejected"):
            signer.decode(foreign, now=NOW)
    token = issue(signer)
    signer.decode(token, now=NOW)
    head, _body, signature = token.split(".")
    forged = f"{head}.{issue(signer).split('.')[1]}.{signature}"
    with pytest.raises(InvalidToken, match="rejected"):
        signer.decode(forged, now=NOW)


def test_callers_cannot_change_what_is_remembered() -> None:
    signer = TokenSigner(ec.generate_private_key(ec.SECP256R1()), "https://pers.test")
    token = issue(signer)
    first = signer.decode(token, now=NOW)
    first["typ"] = "TENANT_ADMIN_JWT"
    assert signer.decode(token, now=NOW)["typ"] == "USER_JWT_ACCESS_TOKEN"


def test_the_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "VERIFIED_CACHE_SIZE", 3)
    key = ec.generate_private_key(ec.SECP256R1())
    signer = TokenSigner(key, "https://pers.test")
    # Issued by another process with the same key: this signer learns them only by decoding.
    elsewhere = TokenSigner(key, "https://pers.test")
    issued = [issue(elsewhere) for _ in range(5)]
    for token in issued:
        signer.decode(token, now=NOW)
    assert len(signer._verified) == 3
    assert list(signer._verified) == issued[2:]
    assert signer.decode(issued[0], now=NOW)["typ"] == "USER_JWT_ACCESS_TOKEN"


def test_a_token_signed_here_is_remembered_as_verifying_would_read_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    signer = TokenSigner(key, "https://pers.test")
    token = issue(signer)
    verified = TokenSigner(key, "https://pers.test").decode(token, now=NOW)

    def never(token: str) -> dict[str, object]:
        raise AssertionError("a token this signer issued was verified again")

    monkeypatch.setattr(signer, "_verify", never)
    assert signer.decode(token, now=NOW) == verified
    with pytest.raises(InvalidToken, match="expired"):
        signer.decode(token, now=NOW + timedelta(minutes=5))


def test_refresh_tokens_are_not_remembered_when_issued() -> None:
    signer = TokenSigner(ec.generate_private_key(ec.SECP256R1()), "https://pers.test")
    token = signer.issue(
        typ=ApiKeyType.USER_JWT_REFRESH_TOKEN, tenant_id=uuid.uuid4(),
        environment=Environment.TESTNET, subject=str(uuid.uuid4()), now=NOW,
        ttl=timedelta(days=1), jti=uuid.uuid4(),
    )  # fmt: skip
    assert token not in signer._verified
    assert signer.decode(token, now=NOW)["typ"] == "USER_JWT_REFRESH_TOKEN"
