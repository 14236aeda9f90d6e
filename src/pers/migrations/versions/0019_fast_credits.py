"""fast lane: one statement moves credits (``pers_fast_credits``)

An admin's credit mint and a user's credit payment to a business ran as eight round trips
through the ORM session: BEGIN, binding the tenant, the credential check, the credit token, the
user (and the business), the ledger entry, the transaction row, COMMIT. This function does the
checks and writes of the successful case in one statement on an autocommit connection
(docs/decisions.md, "The fast lane"): it binds the tenant for Row Level Security, checks the
credential as authentication does (a live long-lived key with its hash and type, touched at
minute granularity; an active admin; a user's project key of the token's environment), reads
the active credit token, converts the amount exactly, finds the user (and the business), posts
the entry through ``pers_post_entry`` and inserts the transaction row, which it returns.

Whatever the successful case does not cover raises ``PF001``: the statement's implicit
transaction rolls back, nothing is written, and the caller answers the request through the
regular path, which says why with its own problem+json error. The function never decides an
outcome the regular path would decide differently; it only declines.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FAST_CREDITS_FUNCTION = """
CREATE FUNCTION pers_fast_credits(
    p_kind varchar,          -- 'mint': issuer to the user named by p_user_column/p_user_value;
                             -- 'pay': the user p_auth_id to the business p_business
    p_auth varchar,          -- 'key' (long-lived key p_auth_id), 'admin' (admin p_auth_id),
                             -- 'user' (user p_auth_id with project key p_project_key)
    p_tenant uuid, p_auth_id uuid, p_env varchar,
    p_key_hash varchar, p_key_type varchar, p_project_key varchar,
    p_user_column varchar, p_user_value varchar, p_trigger varchar,
    p_business uuid, p_chain bigint, p_amount numeric, p_issuer varchar, p_entry uuid,
    p_now timestamptz, p_touch_before timestamptz
) RETURNS SETOF transactions LANGUAGE plpgsql AS $$
DECLARE
    v_decimals integer;
    v_token uuid;
    v_address varchar;
    v_chain bigint;
    v_units numeric;
    v_user uuid;
    v_user_address varchar;
    v_business_address varchar;
    v_key record;
    v_status integer;
    v_tx transactions%ROWTYPE;
BEGIN
    PERFORM set_config('pers.tenant_id', p_tenant::text, true);
    IF p_auth = 'key' THEN
        SELECT type, token_hash, expires_at, revoked_at, last_used_at INTO v_key
        FROM api_keys WHERE tenant_id = p_tenant AND id = p_auth_id;
        IF NOT FOUND OR v_key.token_hash <> p_key_hash OR v_key.type <> p_key_type
           OR v_key.revoked_at IS NOT NULL
           OR (v_key.expires_at IS NOT NULL AND v_key.expires_at <= p_now) THEN
            RAISE EXCEPTION 'declined: key' USING ERRCODE = 'PF001';
        END IF;
        IF v_key.last_used_at IS NULL OR v_key.last_used_at < p_touch_before THEN
            UPDATE api_keys SET last_used_at = p_now
            WHERE tenant_id = p_tenant AND id = p_auth_id
              AND (last_used_at IS NULL OR last_used_at < p_touch_before);
        END IF;
    ELSIF p_auth = 'admin' THEN
        PERFORM 1 FROM admins WHERE tenant_id = p_tenant AND id = p_auth_id AND is_active;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'declined: admin' USING ERRCODE = 'PF001';
        END IF;
    ELSIF p_auth = 'user' THEN
        PERFORM 1 FROM tenants WHERE id = p_tenant AND CASE p_env
            WHEN 'mainnet' THEN project_api_key = p_project_key
            ELSE testnet_project_api_key = p_project_key AND project_api_key <> p_project_key
        END;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'declined: project key' USING ERRCODE = 'PF001';
        END IF;
    ELSE
        RAISE EXCEPTION 'declined: credential' USING ERRCODE = 'PF001';
    END IF;
    PERFORM 1 FROM tenants WHERE id = p_tenant;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'declined: tenant' USING ERRCODE = 'PF001';
    END IF;

    IF p_env = 'testnet' THEN
        SELECT id, decimals, testnet_contract_address, testnet_chain_id
        INTO v_token, v_decimals, v_address, v_chain
        FROM tokens WHERE tenant_id = p_tenant AND type = 'ERC20' AND testnet_is_active
          AND testnet_contract_address IS NOT NULL;
    ELSE
        SELECT id, decimals, mainnet_contract_address, mainnet_chain_id
        INTO v_token, v_decimals, v_address, v_chain
        FROM tokens WHERE tenant_id = p_tenant AND type = 'ERC20' AND mainnet_is_active
          AND mainnet_contract_address IS NOT NULL;
    END IF;
    IF NOT FOUND OR (p_chain IS NOT NULL AND v_chain IS DISTINCT FROM p_chain) THEN
        RAISE EXCEPTION 'declined: credit token' USING ERRCODE = 'PF001';
    END IF;
    v_units := p_amount * power(10::numeric, v_decimals);
    IF v_units <= 0 OR v_units <> trunc(v_units)
       OR v_units > 115792089237316195423570985008687907853269984665640564039457584007913129639935
    THEN
        RAISE EXCEPTION 'declined: amount' USING ERRCODE = 'PF001';
    END IF;
    v_units := trunc(v_units);

    IF p_kind = 'mint' THEN
        IF p_user_column = 'email' THEN
            SELECT id, account_address INTO v_user, v_user_address FROM users
            WHERE tenant_id = p_tenant AND email_key = p_user_value AND is_active;
        ELSIF p_user_column = 'id' THEN
            SELECT id, account_address INTO v_user, v_user_address FROM users
            WHERE tenant_id = p_tenant AND id = p_user_value::uuid AND is_active;
        ELSIF p_user_column = 'external_id' THEN
            SELECT id, account_address INTO v_user, v_user_address FROM users
            WHERE tenant_id = p_tenant AND external_id = p_user_value AND is_active;
        ELSIF p_user_column = 'instagram_account_id' THEN
            SELECT id, account_address INTO v_user, v_user_address FROM users
            WHERE tenant_id = p_tenant AND instagram_account_id = p_user_value AND is_active;
        END IF;
        IF v_user IS NULL THEN
            RAISE EXCEPTION 'declined: user' USING ERRCODE = 'PF001';
        END IF;
        v_status := pers_post_entry(
            p_tenant, p_env, p_entry, v_token, 0, false, false, NULL, p_issuer,
            ARRAY[p_issuer, v_user_address]::varchar[], ARRAY[-v_units, v_units], p_now);
        IF v_status <> 0 THEN
            RAISE EXCEPTION 'declined: ledger %', v_status USING ERRCODE = 'PF001';
        END IF;
        INSERT INTO transactions (
            tenant_id, id, environment, type, trigger_process_type, token_id, token_address,
            token_type, token_decimals, chain_id, amount, sender_address, sender_owner_type,
            sender_id, recipient_address, recipient_owner_type, recipient_id, status,
            created_at, updated_at)
        VALUES (p_tenant, p_entry, p_env, 'MINT', p_trigger, v_token, v_address, 'ERC20',
                v_decimals, v_chain, v_units, p_issuer, 'tenant', p_tenant, v_user_address,
                'user', v_user, 'created', p_now, p_now)
        RETURNING * INTO v_tx;
    ELSIF p_kind = 'pay' THEN
        SELECT account_address INTO v_user_address FROM users
        WHERE tenant_id = p_tenant AND id = p_auth_id AND is_active;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'declined: user' USING ERRCODE = 'PF001';
        END IF;
        SELECT account_address INTO v_business_address FROM businesses
        WHERE tenant_id = p_tenant AND id = p_business AND is_active;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'declined: business' USING ERRCODE = 'PF001';
        END IF;
        v_status := pers_post_entry(
            p_tenant, p_env, p_entry, v_token, 0, false, false, NULL, p_issuer,
            ARRAY[v_user_address, v_business_address]::varchar[], ARRAY[-v_units, v_units],
            p_now);
        IF v_status <> 0 THEN
            RAISE EXCEPTION 'declined: ledger %', v_status USING ERRCODE = 'PF001';
        END IF;
        INSERT INTO transactions (
            tenant_id, id, environment, type, trigger_process_type, token_id, token_address,
            token_type, token_decimals, chain_id, amount, sender_address, sender_owner_type,
            sender_id, recipient_address, recipient_owner_type, recipient_id,
            engaged_business_id, status, created_at, updated_at)
        VALUES (p_tenant, p_entry, p_env, 'TRANSFER', p_trigger, v_token, v_address, 'ERC20',
                v_decimals, v_chain, v_units, v_user_address, 'user', p_auth_id,
                v_business_address, 'business', p_business, p_business, 'created', p_now, p_now)
        RETURNING * INTO v_tx;
    ELSE
        RAISE EXCEPTION 'declined: kind' USING ERRCODE = 'PF001';
    END IF;
    RETURN NEXT v_tx;
END $$
"""


def upgrade() -> None:
    op.execute(FAST_CREDITS_FUNCTION)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS pers_fast_credits")  # one function of that name
