"""ledger: one function writes an entry (``pers_post_entry``)

``ledger.post`` sent one statement per holder leg plus one for the postings (and one for a new
ERC721 id): four round trips for a transfer, each with its driver and protocol overhead on both
sides. The same writes now run inside one PL/pgSQL function, one round trip, with the plans
cached per connection. The rules are unchanged: holder legs are applied in one global order
(account in byte order, the ``C`` collation, which is also Python's ``str`` order, so bulk mints
sorted in Python lock rows in the same order; for an ERC721 id the rows are locked in that order
first, then debited before credited, so a transfer to a lower address no longer trips the
one-holder index); a debit is a conditional UPDATE; the issuer's legs
are postings only; the deferred trigger still checks every entry sums to zero at commit.

The function runs with the caller's rights (Row Level Security applies) and returns a status:
0 written, 1 a holder lacks the amount, 2 the ERC721 id already exists. On 1 or 2 some rows may
already be written: the caller raises and its transaction rolls back.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POST_ENTRY_FUNCTION = """
CREATE FUNCTION pers_post_entry(
    p_tenant uuid, p_env varchar, p_entry uuid, p_token uuid, p_key numeric,
    p_unique boolean, p_new_nft boolean, p_metadata integer, p_issuer varchar,
    p_accounts varchar[], p_amounts numeric[], p_now timestamptz
) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    leg record;
BEGIN
    IF p_new_nft THEN
        INSERT INTO nft_items (tenant_id, environment, token_id, token_key,
                               metadata_incremental_id, minted_in, created_at)
        VALUES (p_tenant, p_env, p_token, p_key, p_metadata, p_entry, p_now)
        ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            RETURN 2;
        END IF;
    END IF;
    IF p_unique THEN
        -- An ERC721 id may have one holder with amount > 0 (a unique index checked row by
        -- row): the sender must be at 0 before the recipient reaches 1. Lock the existing rows
        -- in the global order first, then debit before crediting.
        PERFORM 1 FROM balances
        WHERE tenant_id = p_tenant AND environment = p_env AND token_id = p_token
          AND token_key = p_key AND account_address = ANY(p_accounts)
          AND account_address <> p_issuer
        ORDER BY account_address COLLATE "C"
        FOR UPDATE;
    END IF;
    FOR leg IN
        SELECT m.account, m.amount
        FROM unnest(p_accounts, p_amounts) AS m(account, amount)
        WHERE m.account <> p_issuer
        ORDER BY CASE WHEN p_unique THEN m.amount > 0 END, m.account COLLATE "C"
    LOOP
        IF leg.amount < 0 THEN
            UPDATE balances SET amount = amount + leg.amount, updated_at = p_now
            WHERE tenant_id = p_tenant AND environment = p_env
              AND account_address = leg.account AND token_id = p_token
              AND token_key = p_key AND amount >= -leg.amount;
            IF NOT FOUND THEN
                RETURN 1;
            END IF;
        ELSE
            INSERT INTO balances (tenant_id, environment, account_address, token_id, token_key,
                                  amount, is_unique, updated_at)
            VALUES (p_tenant, p_env, leg.account, p_token, p_key, leg.amount, p_unique, p_now)
            ON CONFLICT (tenant_id, environment, account_address, token_id, token_key)
            DO UPDATE SET amount = balances.amount + excluded.amount,
                          updated_at = excluded.updated_at;
        END IF;
    END LOOP;
    INSERT INTO postings (tenant_id, entry_id, leg, environment, account_address, token_id,
                          token_key, amount, created_at)
    SELECT p_tenant, p_entry, (m.n - 1)::smallint, p_env, m.account, p_token, p_key, m.amount,
           p_now
    FROM unnest(p_accounts, p_amounts) WITH ORDINALITY AS m(account, amount, n);
    RETURN 0;
END $$
"""


def upgrade() -> None:
    op.execute(POST_ENTRY_FUNCTION)


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION IF EXISTS pers_post_entry(uuid, varchar, uuid, uuid, numeric, boolean,"
        " boolean, integer, varchar, varchar[], numeric[], timestamptz)"
    )
