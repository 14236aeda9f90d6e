"""fast lane: one statement records a campaign claim (``pers_fast_claim``)

A user's claim, or a system's claim for a user it names, when every rule the caller checked on
the cached campaign detail holds (docs/decisions.md, "The fast lane"). The function checks what
the caller could not: the credential (the project key of the token's environment; the user
active, or the system key live), that the tenant's catalog is still at the version the cached
detail was read at, the user (active; found by the lookup field), and the user's counter, with
the same single statement the regular path counts with. It then mints each token unit through
``pers_post_entry`` (when the claim completes the threshold), inserts the transaction rows and
the claim, and returns the claim, the user and the transactions.

Anything else raises ``PF001``: the implicit transaction rolls back, nothing is written, and the
regular path answers, with its own error when a rule refuses.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FAST_CLAIM_FUNCTION = """
CREATE FUNCTION pers_fast_claim(
    p_tenant uuid, p_env varchar, p_check varchar, p_subject uuid, p_key_hash varchar,
    p_key_type varchar, p_project_key varchar, p_touch_before timestamptz,
    p_catalog_version bigint, p_user_column varchar, p_user_value varchar,
    p_campaign uuid, p_trigger uuid, p_scope uuid, p_max_total integer,
    p_max_per_day integer, p_cooldown integer, p_threshold integer,
    p_claim uuid, p_claimed_by varchar, p_claimer uuid, p_conditions jsonb,
    p_multiplier numeric, p_latitude double precision, p_longitude double precision,
    p_start timestamptz, p_end timestamptz, p_process_type varchar,
    p_tokens uuid[], p_addresses varchar[], p_decimals integer[], p_chains bigint[],
    p_amounts numeric[], p_entries uuid[], p_issuer varchar, p_now timestamptz, p_day date
) RETURNS TABLE (claim campaign_claims, claimant users, movements transactions[])
LANGUAGE plpgsql AS $$
DECLARE
    v_key record;
    v_user users%ROWTYPE;
    v_total integer;
    v_rewarded boolean;
    v_status integer;
    v_tx transactions%ROWTYPE;
    v_txs transactions[] := '{}';
    v_ids uuid[] := '{}';
    v_claim campaign_claims%ROWTYPE;
BEGIN
    PERFORM set_config('pers.tenant_id', p_tenant::text, true);
    PERFORM 1 FROM tenants WHERE id = p_tenant AND catalog_version = p_catalog_version
        AND CASE p_env
            WHEN 'mainnet' THEN project_api_key = p_project_key
            ELSE testnet_project_api_key = p_project_key AND project_api_key <> p_project_key
        END;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'declined: tenant, project key or catalog' USING ERRCODE = 'PF001';
    END IF;
    IF p_check = 'key' THEN
        SELECT type, token_hash, expires_at, revoked_at, last_used_at INTO v_key
        FROM api_keys WHERE tenant_id = p_tenant AND id = p_subject;
        IF NOT FOUND OR v_key.token_hash <> p_key_hash OR v_key.type <> p_key_type
           OR v_key.revoked_at IS NOT NULL
           OR (v_key.expires_at IS NOT NULL AND v_key.expires_at <= p_now) THEN
            RAISE EXCEPTION 'declined: key' USING ERRCODE = 'PF001';
        END IF;
        IF v_key.last_used_at IS NULL OR v_key.last_used_at < p_touch_before THEN
            UPDATE api_keys SET last_used_at = p_now
            WHERE tenant_id = p_tenant AND id = p_subject
              AND (last_used_at IS NULL OR last_used_at < p_touch_before);
        END IF;
    ELSIF p_check <> 'user' THEN
        RAISE EXCEPTION 'declined: credential' USING ERRCODE = 'PF001';
    END IF;

    IF p_user_column = 'id' THEN
        SELECT * INTO v_user FROM users
        WHERE tenant_id = p_tenant AND id = p_user_value::uuid AND is_active;
    ELSIF p_user_column = 'email' THEN
        SELECT * INTO v_user FROM users
        WHERE tenant_id = p_tenant AND email_key = p_user_value AND is_active;
    ELSIF p_user_column = 'external_id' THEN
        SELECT * INTO v_user FROM users
        WHERE tenant_id = p_tenant AND external_id = p_user_value AND is_active;
    ELSIF p_user_column = 'instagram_account_id' THEN
        SELECT * INTO v_user FROM users
        WHERE tenant_id = p_tenant AND instagram_account_id = p_user_value AND is_active;
    END IF;
    IF v_user.id IS NULL OR (p_check = 'user' AND v_user.id <> p_subject) THEN
        RAISE EXCEPTION 'declined: user' USING ERRCODE = 'PF001';
    END IF;

    -- The regular path's counter statement (pers.claims.repository._COUNT), on the user's row.
    INSERT INTO campaign_claim_counters AS c (tenant_id, campaign_id, user_id, business_id,
                                             total, day, day_count, last_claim_at)
    VALUES (p_tenant, p_campaign, v_user.id, p_scope, 1, p_day, 1, p_now)
    ON CONFLICT (tenant_id, campaign_id, user_id, business_id) DO UPDATE SET
        total = c.total + 1,
        day_count = CASE WHEN c.day = excluded.day THEN c.day_count + 1 ELSE 1 END,
        day = excluded.day, last_claim_at = excluded.last_claim_at
    WHERE (p_max_total IS NULL OR c.total < p_max_total)
      AND (p_max_per_day IS NULL OR c.day <> excluded.day OR c.day_count < p_max_per_day)
      AND (p_cooldown IS NULL
           OR c.last_claim_at <= excluded.last_claim_at - make_interval(secs => p_cooldown))
    RETURNING total INTO v_total;
    IF v_total IS NULL THEN
        RAISE EXCEPTION 'declined: limit' USING ERRCODE = 'PF001';
    END IF;

    v_rewarded := p_threshold IS NULL OR v_total % p_threshold = 0;
    IF v_rewarded THEN
        FOR i IN 1 .. coalesce(array_length(p_tokens, 1), 0) LOOP
            v_status := pers_post_entry(
                p_tenant, p_env, p_entries[i], p_tokens[i], 0, false, false, NULL, p_issuer,
                ARRAY[p_issuer, v_user.account_address]::varchar[],
                ARRAY[-p_amounts[i], p_amounts[i]], p_now);
            IF v_status <> 0 THEN
                RAISE EXCEPTION 'declined: ledger %', v_status USING ERRCODE = 'PF001';
            END IF;
            INSERT INTO transactions (
                tenant_id, id, environment, type, trigger_process_type, trigger_process_id,
                token_id, token_address, token_type, token_decimals, chain_id, amount,
                sender_address, sender_owner_type, sender_id, recipient_address,
                recipient_owner_type, recipient_id, status, created_at, updated_at)
            VALUES (p_tenant, p_entries[i], p_env, 'MINT', p_process_type, p_claim::text,
                    p_tokens[i], p_addresses[i], 'ERC20', p_decimals[i], p_chains[i],
                    p_amounts[i], p_issuer, 'tenant', p_tenant, v_user.account_address, 'user',
                    v_user.id, 'created', p_now, p_now)
            RETURNING * INTO v_tx;
            v_txs := v_txs || v_tx;
            v_ids := v_ids || p_entries[i];
        END LOOP;
    END IF;

    INSERT INTO campaign_claims (
        tenant_id, id, environment, campaign_id, trigger_id, user_id, business_id, claimed_by,
        claimer_id, conditions_data, multiplier, latitude, longitude, start_date, end_date,
        completion_count, completion_threshold, rewarded, transaction_ids, created_at)
    VALUES (p_tenant, p_claim, p_env, p_campaign, p_trigger, v_user.id, NULL, p_claimed_by,
            p_claimer, p_conditions, p_multiplier, p_latitude, p_longitude, p_start, p_end,
            v_total, p_threshold, v_rewarded, v_ids, p_now)
    RETURNING * INTO v_claim;
    RETURN QUERY SELECT v_claim, v_user, v_txs;
END $$
"""


def upgrade() -> None:
    op.execute(FAST_CLAIM_FUNCTION)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS pers_fast_claim")  # one function of that name
