"""fast lane: one statement records a user's redeem (``pers_fast_redeem``)

A redeem ran as a dozen round trips through the ORM session (the user, the redemption locked
``FOR KEY SHARE``, the catalog version, the stock, the counter, the credit token, the spend, each
mint with its item check, the supply, the redeem row, the commit). This function does the
successful case in one statement on an autocommit connection (docs/decisions.md, "The fast
lane"), with the regular path's statements and in its lock order:

1. the redemption ``FOR KEY SHARE`` (live, of the token's environment, active, no minimum status
   type: a status is derived from balances, which the regular path reads);
2. the tenant: the catalog still at the version the caller's cached token units were read at
   (checked after the lock, so a committed admin change is seen), and the project key of the
   token's environment;
3. the user (active), the user's country (the trusted header the caller passes, else a plain
   two-letter ``customData.countryCode``; anything less plain declines) and the redemption's
   country restrictions;
4. the user's counter (``maxPerUser``), the credits spent (REDEMPTION_SPEND burn through
   ``pers_post_entry``, which refuses an overdraft), each token unit minted (REDEMPTION_RECEIVE;
   an NFT item must be active), one unit of stock from the supply shards (free shard first, then
   shard by shard, waiting), and the redeem row, which it returns with the transactions.

Anything else raises ``PF001``: the implicit transaction rolls back, nothing is written, and the
regular path answers, with its own 422 when a rule refuses.

``pers_fast_credit_token`` reads the tenant's active credit token as an environment sees it.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CREDIT_TOKEN_FUNCTION = """
CREATE FUNCTION pers_fast_credit_token(
    p_tenant uuid, p_env varchar,
    OUT token_id uuid, OUT decimals integer, OUT address varchar, OUT chain_id bigint
) LANGUAGE plpgsql STABLE AS $$
BEGIN
    -- PL/pgSQL, not SQL: its statement's plan is cached for the session; a SQL function
    -- called from a PL/pgSQL statement is planned again on every call.
    IF p_env = 'mainnet' THEN
        SELECT t.id, t.decimals, t.mainnet_contract_address, t.mainnet_chain_id
        INTO token_id, decimals, address, chain_id
        FROM tokens t WHERE t.tenant_id = p_tenant AND t.type = 'ERC20'
          AND t.mainnet_is_active AND t.mainnet_contract_address IS NOT NULL;
    ELSE
        SELECT t.id, t.decimals, t.testnet_contract_address, t.testnet_chain_id
        INTO token_id, decimals, address, chain_id
        FROM tokens t WHERE t.tenant_id = p_tenant AND t.type = 'ERC20'
          AND t.testnet_is_active AND t.testnet_contract_address IS NOT NULL;
    END IF;
END $$
"""

FAST_REDEEM_FUNCTION = """
CREATE FUNCTION pers_fast_redeem(
    p_tenant uuid, p_env varchar, p_user uuid, p_user_int numeric, p_project_key varchar,
    p_catalog_version bigint, p_redemption uuid, p_country varchar, p_redeem uuid,
    p_spend_entry uuid, p_tokens uuid[], p_addresses varchar[], p_types varchar[],
    p_decimals integer[], p_chains bigint[], p_keys numeric[], p_unique boolean[],
    p_metadata integer[], p_amounts numeric[], p_entries uuid[], p_issuer varchar,
    p_now timestamptz
) RETURNS TABLE (redeem redemption_redeems, movements transactions[])
LANGUAGE plpgsql AS $$
DECLARE
    v_redemption redemptions%ROWTYPE;
    v_user users%ROWTYPE;
    v_country varchar := p_country;
    v_raw jsonb;
    v_total integer;
    v_credit record;
    v_units numeric := 0;
    v_status integer;
    v_shard integer;
    v_start integer;
    v_tx transactions%ROWTYPE;
    v_txs transactions[] := '{}';
    v_ids uuid[] := '{}';
    v_redeem redemption_redeems%ROWTYPE;
BEGIN
    PERFORM set_config('pers.tenant_id', p_tenant::text, true);
    SELECT * INTO v_redemption FROM redemptions
    WHERE tenant_id = p_tenant AND id = p_redemption AND deleted_at IS NULL
    FOR KEY SHARE;
    IF NOT FOUND OR v_redemption.environment <> p_env OR NOT v_redemption.is_active
       OR v_redemption.min_user_status_type_id IS NOT NULL
       OR (v_redemption.max_total_supply IS NOT NULL AND v_redemption.supply_shards < 1) THEN
        RAISE EXCEPTION 'declined: redemption' USING ERRCODE = 'PF001';
    END IF;
    PERFORM 1 FROM tenants WHERE id = p_tenant AND catalog_version = p_catalog_version
        AND CASE p_env
            WHEN 'mainnet' THEN project_api_key = p_project_key
            ELSE testnet_project_api_key = p_project_key AND project_api_key <> p_project_key
        END;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'declined: tenant, project key or catalog' USING ERRCODE = 'PF001';
    END IF;

    SELECT * INTO v_user FROM users WHERE tenant_id = p_tenant AND id = p_user AND is_active;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'declined: user' USING ERRCODE = 'PF001';
    END IF;
    IF v_country IS NULL THEN
        v_raw := v_user.custom_data -> 'countryCode';
        IF jsonb_typeof(v_raw) = 'string' THEN
            IF (v_raw #>> '{}') !~ '^[A-Za-z]{2}$' THEN
                RAISE EXCEPTION 'declined: country' USING ERRCODE = 'PF001';
            END IF;
            v_country := upper(v_raw #>> '{}');
        END IF;
    END IF;
    IF v_country IS NOT NULL AND cardinality(v_redemption.country_code_restrictions) > 0 AND (
        'NOT_' || v_country = ANY(v_redemption.country_code_restrictions)
        OR (EXISTS (SELECT 1 FROM unnest(v_redemption.country_code_restrictions) AS r(code)
                    WHERE left(r.code, 4) <> 'NOT_')
            AND NOT v_country = ANY(v_redemption.country_code_restrictions))) THEN
        RAISE EXCEPTION 'declined: country restriction' USING ERRCODE = 'PF001';
    END IF;

    -- The regular path's counter statement (pers.redemptions.repository._COUNT).
    INSERT INTO redemption_user_counters AS c (tenant_id, redemption_id, user_id, total,
                                               last_redeem_at)
    VALUES (p_tenant, p_redemption, v_user.id, 1, p_now)
    ON CONFLICT (tenant_id, redemption_id, user_id) DO UPDATE SET
        total = c.total + 1, last_redeem_at = excluded.last_redeem_at
    WHERE (v_redemption.max_per_user IS NULL OR c.total < v_redemption.max_per_user)
    RETURNING total INTO v_total;
    IF v_total IS NULL THEN
        RAISE EXCEPTION 'declined: maxPerUser' USING ERRCODE = 'PF001';
    END IF;

    IF v_redemption.credit_token_amount > 0 THEN
        SELECT * INTO v_credit FROM pers_fast_credit_token(p_tenant, p_env);
        IF v_credit.token_id IS NULL THEN
            RAISE EXCEPTION 'declined: credit token' USING ERRCODE = 'PF001';
        END IF;
        v_units := v_redemption.credit_token_amount * power(10::numeric, v_credit.decimals);
        IF v_units <> trunc(v_units) OR v_units
           > 115792089237316195423570985008687907853269984665640564039457584007913129639935
        THEN
            RAISE EXCEPTION 'declined: credit amount' USING ERRCODE = 'PF001';
        END IF;
        v_units := trunc(v_units);
        v_status := pers_post_entry(
            p_tenant, p_env, p_spend_entry, v_credit.token_id, 0, false, false, NULL, p_issuer,
            ARRAY[v_user.account_address, p_issuer]::varchar[], ARRAY[-v_units, v_units], p_now);
        IF v_status <> 0 THEN
            RAISE EXCEPTION 'declined: ledger %', v_status USING ERRCODE = 'PF001';
        END IF;
        INSERT INTO transactions (
            tenant_id, id, environment, type, trigger_process_type, trigger_process_id,
            token_id, token_address, token_type, token_decimals, chain_id, amount,
            sender_address, sender_owner_type, sender_id, recipient_address,
            recipient_owner_type, recipient_id, status, created_at, updated_at)
        VALUES (p_tenant, p_spend_entry, p_env, 'BURN', 'REDEMPTION_SPEND', p_redeem::text,
                v_credit.token_id, v_credit.address, 'ERC20', v_credit.decimals,
                v_credit.chain_id, v_units, v_user.account_address, 'user', v_user.id,
                p_issuer, 'tenant', p_tenant, 'created', p_now, p_now)
        RETURNING * INTO v_tx;
        v_txs := v_txs || v_tx;
        v_ids := v_ids || p_spend_entry;
    END IF;

    FOR i IN 1 .. coalesce(array_length(p_tokens, 1), 0) LOOP
        IF p_metadata[i] IS NOT NULL THEN
            PERFORM 1 FROM token_metadata WHERE tenant_id = p_tenant AND token_id = p_tokens[i]
                AND incremental_id = p_metadata[i] AND is_active;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'declined: item' USING ERRCODE = 'PF001';
            END IF;
        END IF;
        v_status := pers_post_entry(
            p_tenant, p_env, p_entries[i], p_tokens[i], p_keys[i], p_unique[i], p_unique[i],
            p_metadata[i], p_issuer, ARRAY[p_issuer, v_user.account_address]::varchar[],
            ARRAY[-p_amounts[i], p_amounts[i]], p_now);
        IF v_status <> 0 THEN
            RAISE EXCEPTION 'declined: ledger %', v_status USING ERRCODE = 'PF001';
        END IF;
        INSERT INTO transactions (
            tenant_id, id, environment, type, trigger_process_type, trigger_process_id,
            token_id, token_address, token_type, token_decimals, chain_id,
            contract_token_id, token_metadata_incremental_id, amount,
            sender_address, sender_owner_type, sender_id, recipient_address,
            recipient_owner_type, recipient_id, status, created_at, updated_at)
        VALUES (p_tenant, p_entries[i], p_env, 'MINT', 'REDEMPTION_RECEIVE', p_redeem::text,
                p_tokens[i], p_addresses[i], p_types[i], p_decimals[i], p_chains[i],
                CASE WHEN p_types[i] = 'ERC20' THEN NULL ELSE p_keys[i] END, p_metadata[i],
                p_amounts[i], p_issuer, 'tenant', p_tenant, v_user.account_address, 'user',
                v_user.id, 'created', p_now, p_now)
        RETURNING * INTO v_tx;
        v_txs := v_txs || v_tx;
        v_ids := v_ids || p_entries[i];
    END LOOP;

    IF v_redemption.max_total_supply IS NOT NULL THEN
        -- The regular path's two passes (pers.redemptions.repository._TAKE_FREE, _TAKE_FROM).
        v_start := (p_user_int % greatest(v_redemption.supply_shards, 1))::integer;
        UPDATE redemption_supply_shards SET remaining = remaining - 1
        WHERE tenant_id = p_tenant AND redemption_id = p_redemption AND shard = (
            SELECT shard FROM redemption_supply_shards
            WHERE tenant_id = p_tenant AND redemption_id = p_redemption AND remaining >= 1
            ORDER BY (shard + v_redemption.supply_shards - v_start) % v_redemption.supply_shards
            LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING shard INTO v_shard;
        IF v_shard IS NULL THEN
            FOR step IN 0 .. v_redemption.supply_shards - 1 LOOP
                UPDATE redemption_supply_shards SET remaining = remaining - 1
                WHERE tenant_id = p_tenant AND redemption_id = p_redemption
                  AND shard = (v_start + step) % v_redemption.supply_shards AND remaining >= 1
                RETURNING shard INTO v_shard;
                EXIT WHEN v_shard IS NOT NULL;
            END LOOP;
        END IF;
        IF v_shard IS NULL THEN
            RAISE EXCEPTION 'declined: supply' USING ERRCODE = 'PF001';
        END IF;
    END IF;

    INSERT INTO redemption_redeems (
        tenant_id, id, environment, redemption_id, user_id, credit_token_amount,
        credit_base_units, user_country_code, transaction_ids, created_at)
    VALUES (p_tenant, p_redeem, p_env, p_redemption, v_user.id,
            v_redemption.credit_token_amount, v_units, v_country, v_ids, p_now)
    RETURNING * INTO v_redeem;
    RETURN QUERY SELECT v_redeem, v_txs;
END $$
"""


def upgrade() -> None:
    op.execute(CREDIT_TOKEN_FUNCTION)
    op.execute(FAST_REDEEM_FUNCTION)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS pers_fast_redeem")  # one function of that name
    op.execute("DROP FUNCTION IF EXISTS pers_fast_credit_token")
