# pragma version ~=0.4.3
"""
@title pers reward: an ERC-1155 collection run by one operator
@license Apache-2.0
@notice Rewards of a pers tenant: one token id per reward item, whole units.
        The deployer becomes the operator, the one account that mints,
        burns from any holder and moves any holder's balances, and so the
        only account that pays gas; holder-initiated ERC-1155 calls keep
        working. Built on snekmate's `erc1155` and `ownable` modules.
"""

from ethereum.ercs import IERC165

implements: IERC165

from snekmate.auth import ownable
from snekmate.tokens import erc1155
from snekmate.tokens.interfaces import IERC1155

initializes: ownable
initializes: erc1155[ownable := ownable]

exports: (
    erc1155.supportsInterface,
    erc1155.balanceOf,
    erc1155.balanceOfBatch,
    erc1155.isApprovedForAll,
    erc1155.setApprovalForAll,
    erc1155.safeTransferFrom,
    erc1155.safeBatchTransferFrom,
    erc1155.exists,
    ownable.owner,
)

NAME_MAX: constant(uint256) = 800
SYMBOL_MAX: constant(uint256) = 128
# snekmate stores per-id URIs in 432 bytes; the base URI shares that bound,
# so base + decimal id (at most 78 digits) fits `uri`'s 512.
URI_MAX: constant(uint256) = 432
# Moves across holders in one `operatorBatch` call.
BATCH_MAX: constant(uint256) = 512
# Ids in one single-holder batch call: snekmate's bound for the same arrays.
IDS_MAX: constant(uint256) = 128

name: public(String[NAME_MAX])
symbol: public(String[SYMBOL_MAX])
baseURI: public(String[URI_MAX])


@deploy
def __init__(name_: String[NAME_MAX], symbol_: String[SYMBOL_MAX], base_uri_: String[URI_MAX]):
    ownable.__init__()
    # snekmate's immutable base URI stays empty: `uri` below replaces it.
    erc1155.__init__("")
    self.name = name_
    self.symbol = symbol_
    self.baseURI = base_uri_


@internal
@view
def _uri(id: uint256) -> String[512]:
    own: String[432] = erc1155._token_uris[id]
    if len(own) != 0:
        return own
    if len(self.baseURI) != 0:
        return concat(self.baseURI, uint2str(id))
    return ""


@external
@view
def uri(id: uint256) -> String[512]:
    """
    @notice The id's own URI when one was set, else the base URI followed by
            the decimal id, else the empty string.
    """
    return self._uri(id)


@external
@view
def totalSupply(id: uint256) -> uint256:
    return erc1155.total_supply[id]


@internal
@view
def _check_operator():
    assert msg.sender == ownable.owner, "reward: caller is not the operator"


@internal
@view
def _check_burner(account: address):
    assert (
        msg.sender == account
        or msg.sender == ownable.owner
        or erc1155.isApprovedForAll[account][msg.sender]
    ), "reward: caller is not holder, approved or operator"


@internal
def _move(sender: address, receiver: address, id: uint256, amount: uint256):
    # The zero address on one side means mint or burn, as in transfer logs.
    if sender == empty(address):
        erc1155._safe_mint(receiver, id, amount, b"")
    elif receiver == empty(address):
        erc1155._burn(sender, id, amount)
    else:
        erc1155._safe_transfer_from(sender, receiver, id, amount, b"")


@external
def mint(to: address, id: uint256, amount: uint256, data: Bytes[1_024]):
    """
    @notice Creates `amount` units of `id` for `to`. Operator only.
    """
    self._check_operator()
    erc1155._safe_mint(to, id, amount, data)


@external
def mintBatch(
    to: address,
    ids: DynArray[uint256, IDS_MAX],
    amounts: DynArray[uint256, IDS_MAX],
    data: Bytes[1_024],
):
    """
    @notice Creates `amounts[i]` units of `ids[i]` for `to`, one
            `TransferBatch` event. Operator only.
    """
    self._check_operator()
    erc1155._safe_mint_batch(to, ids, amounts, data)


@external
def burn(account: address, id: uint256, amount: uint256):
    """
    @notice Destroys `amount` units of `account`'s `id`. The holder, an
            approved account or the operator.
    """
    self._check_burner(account)
    erc1155._burn(account, id, amount)


@external
def burnBatch(account: address, ids: DynArray[uint256, IDS_MAX], amounts: DynArray[uint256, IDS_MAX]):
    """
    @notice Batched `burn`. The holder, an approved account or the operator.
    """
    self._check_burner(account)
    erc1155._burn_batch(account, ids, amounts)


@external
def operatorTransfer(sender: address, receiver: address, id: uint256, amount: uint256):
    """
    @notice Moves `amount` units of `id` from `sender` to `receiver` without
            an approval. Operator only.
    """
    self._check_operator()
    erc1155._safe_transfer_from(sender, receiver, id, amount, b"")


@external
def operatorTransferBatch(
    sender: address,
    receiver: address,
    ids: DynArray[uint256, IDS_MAX],
    amounts: DynArray[uint256, IDS_MAX],
):
    """
    @notice Batched `operatorTransfer` between one pair of holders.
            Operator only.
    """
    self._check_operator()
    erc1155._safe_batch_transfer_from(sender, receiver, ids, amounts, b"")


@external
def operatorBatch(
    senders: DynArray[address, BATCH_MAX],
    receivers: DynArray[address, BATCH_MAX],
    ids: DynArray[uint256, BATCH_MAX],
    amounts: DynArray[uint256, BATCH_MAX],
):
    """
    @notice Applies the moves of `amounts[i]` units of `ids[i]` from
            `senders[i]` to `receivers[i]` in order, all or none. A zero
            sender mints, a zero receiver burns. Operator only.
    """
    self._check_operator()
    assert len(senders) == len(receivers), "reward: length mismatch"
    assert len(senders) == len(ids), "reward: length mismatch"
    assert len(senders) == len(amounts), "reward: length mismatch"
    for i: uint256 in range(len(senders), bound=BATCH_MAX):
        self._move(senders[i], receivers[i], ids[i], amounts[i])


@external
def setURI(id: uint256, tokenUri: String[URI_MAX]):
    """
    @notice Sets the URI of `id` (empty: back to base URI + id). Operator only.
    """
    self._check_operator()
    erc1155._token_uris[id] = tokenUri
    log IERC1155.URI(_value=self._uri(id), _id=id)


@external
def setBaseURI(uri: String[URI_MAX]):
    """
    @notice Replaces the base URI of ids without their own URI. Operator only.
    """
    self._check_operator()
    self.baseURI = uri


@external
def transferOwnership(newOwner: address):
    """
    @notice Hands the operator role to `newOwner`. Operator only.
    """
    self._check_operator()
    assert newOwner != empty(address), "reward: new operator is the zero address"
    ownable._transfer_ownership(newOwner)
