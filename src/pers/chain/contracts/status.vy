# pragma version ~=0.4.3
"""
@title pers status: an ERC-721 collection run by one operator
@license Apache-2.0
@notice Status tokens and stamps of a pers tenant. The ledger chooses
        every token id (it is the mint's entry id), so mints name their id
        and a replayed mint of the same id reverts instead of minting twice.
        The deployer becomes the operator, the one account that mints, burns
        from any holder and moves any holder's tokens, and so the only account
        that pays gas; holder-initiated ERC-721 calls keep working.
        Built on snekmate's `erc721` and `ownable` modules.
"""

from ethereum.ercs import IERC165
from ethereum.ercs import IERC721

implements: IERC165
implements: IERC721

from snekmate.auth import ownable
from snekmate.tokens import erc721
from snekmate.tokens.interfaces import IERC4906

initializes: ownable
initializes: erc721[ownable := ownable]

exports: (
    erc721.balanceOf,
    erc721.ownerOf,
    erc721.getApproved,
    erc721.isApprovedForAll,
    erc721.approve,
    erc721.setApprovalForAll,
    erc721.transferFrom,
    erc721.safeTransferFrom,
    erc721.totalSupply,
    erc721.tokenByIndex,
    erc721.tokenOfOwnerByIndex,
    erc721.burn,
    ownable.owner,
)

NAME_MAX: constant(uint256) = 800
SYMBOL_MAX: constant(uint256) = 128
# snekmate stores per-token URIs in 432 bytes; the base URI shares that
# bound, so base + decimal id (at most 78 digits) fits `tokenURI`'s 512.
URI_MAX: constant(uint256) = 432
BATCH_MAX: constant(uint256) = 512

# What this contract answers to ERC-165: snekmate's list minus the permit
# extension (ERC-4494), which is not exposed.
SUPPORTED_INTERFACES: constant(bytes4[5]) = [
    0x01FFC9A7,  # ERC-165
    0x80AC58CD,  # ERC-721
    0x5B5E139F,  # ERC-721 metadata
    0x780E9D63,  # ERC-721 enumeration
    0x49064906,  # ERC-4906 metadata updates
]

name: public(String[NAME_MAX])
symbol: public(String[SYMBOL_MAX])
baseURI: public(String[URI_MAX])


@deploy
def __init__(name_: String[NAME_MAX], symbol_: String[SYMBOL_MAX], base_uri_: String[URI_MAX]):
    ownable.__init__()
    # snekmate's short immutable name, symbol and base URI stay empty: the
    # getters above replace them. The EIP-712 domain only serves `permit`,
    # which is not exposed.
    erc721.__init__("", "", "", "pers status", "1")
    self.name = name_
    self.symbol = symbol_
    self.baseURI = base_uri_


@external
@view
def supportsInterface(interfaceId: bytes4) -> bool:
    return interfaceId in SUPPORTED_INTERFACES


@external
@view
def tokenURI(tokenId: uint256) -> String[512]:
    """
    @notice The token's own URI when it was minted with one, else the base
            URI followed by the decimal id, else the empty string.
    """
    assert erc721._exists(tokenId), "status: invalid token ID"
    own: String[432] = erc721._token_uris[tokenId]
    if len(own) != 0:
        return own
    if len(self.baseURI) != 0:
        return concat(self.baseURI, uint2str(tokenId))
    return ""


@internal
@view
def _check_operator():
    assert msg.sender == ownable.owner, "status: caller is not the operator"


@internal
def _burn_from(owner: address, tokenId: uint256):
    # Naming the holder turns a stale intent into a revert rather than a
    # burn of whoever holds the id now.
    assert erc721._owner_of(tokenId) == owner, "status: burn from incorrect owner"
    erc721._burn(tokenId)


@internal
def _move(sender: address, receiver: address, tokenId: uint256):
    # The zero address on one side means mint or burn, as in `Transfer` logs.
    if sender == empty(address):
        erc721._mint(receiver, tokenId)
    elif receiver == empty(address):
        self._burn_from(sender, tokenId)
    else:
        erc721._transfer(sender, receiver, tokenId)


@external
def safeMint(to: address, tokenId: uint256, uri: String[URI_MAX]):
    """
    @notice Mints the new token `tokenId` to `to`, with its own URI unless
            `uri` is empty. Reverts if the id exists, or if `to` is a
            contract that does not accept ERC-721 tokens. Operator only.
    """
    self._check_operator()
    erc721._safe_mint(to, tokenId, b"")
    if len(uri) != 0:
        erc721._set_token_uri(tokenId, uri)


@external
def mintMany(to: DynArray[address, BATCH_MAX], tokenIds: DynArray[uint256, BATCH_MAX]):
    """
    @notice Mints `tokenIds[i]` to `to[i]` for every `i`, in one transaction.
            Like the other batch and operator moves (and `transferFrom`), it
            does not call `onERC721Received`: custodial wallets are plain
            accounts. Operator only.
    """
    self._check_operator()
    assert len(to) == len(tokenIds), "status: length mismatch"
    for i: uint256 in range(len(to), bound=BATCH_MAX):
        erc721._mint(to[i], tokenIds[i])


@external
def burnFrom(owner: address, tokenId: uint256):
    """
    @notice Burns `tokenId`, which `owner` must hold, without its approval.
            Operator only.
    """
    self._check_operator()
    self._burn_from(owner, tokenId)


@external
def operatorTransfer(sender: address, receiver: address, tokenId: uint256):
    """
    @notice Moves `tokenId` from `sender`, who must hold it, to `receiver`
            without an approval. Operator only.
    """
    self._check_operator()
    erc721._transfer(sender, receiver, tokenId)


@external
def operatorBatch(
    senders: DynArray[address, BATCH_MAX],
    receivers: DynArray[address, BATCH_MAX],
    tokenIds: DynArray[uint256, BATCH_MAX],
):
    """
    @notice Applies the moves of `tokenIds[i]` from `senders[i]` to
            `receivers[i]` in order, all or none. A zero sender mints,
            a zero receiver burns. Operator only.
    """
    self._check_operator()
    assert len(senders) == len(receivers), "status: length mismatch"
    assert len(senders) == len(tokenIds), "status: length mismatch"
    for i: uint256 in range(len(senders), bound=BATCH_MAX):
        self._move(senders[i], receivers[i], tokenIds[i])


@external
def setBaseURI(uri: String[URI_MAX]):
    """
    @notice Replaces the base URI of tokens minted without their own URI.
            Operator only.
    """
    self._check_operator()
    self.baseURI = uri
    log IERC4906.BatchMetadataUpdate(_fromTokenId=0, _toTokenId=max_value(uint256))


@external
def transferOwnership(newOwner: address):
    """
    @notice Hands the operator role to `newOwner`. Operator only.
    """
    self._check_operator()
    assert newOwner != empty(address), "status: new operator is the zero address"
    ownable._transfer_ownership(newOwner)
