# pragma version ~=0.4.3
"""
@title pers credit: an ERC-20 token run by one operator
@license Apache-2.0
@notice Credits (points) of a pers tenant. Holders are custodial wallets:
        the deployer becomes the operator, the one account that mints,
        burns from any holder and moves any holder's balance, and so the
        only account that pays gas. Holder-initiated ERC-20 calls
        (`transfer`, `approve`, `transferFrom`, `burn`) keep working so
        that the token stays a standard ERC-20 for wallets and explorers.
        Built on snekmate's `erc20` and `ownable` modules.
"""

from ethereum.ercs import IERC20
from ethereum.ercs import IERC20Detailed

implements: IERC20
implements: IERC20Detailed

from snekmate.auth import ownable
from snekmate.tokens import erc20

initializes: ownable
initializes: erc20[ownable := ownable]

exports: (
    erc20.totalSupply,
    erc20.balanceOf,
    erc20.allowance,
    erc20.decimals,
    erc20.transfer,
    erc20.transferFrom,
    erc20.approve,
    erc20.burn,
    ownable.owner,
)

# Bounds of what the pers API accepts (200 and 32 characters of up to four
# UTF-8 bytes each), so that the contract never refuses a name pers took.
NAME_MAX: constant(uint256) = 800
SYMBOL_MAX: constant(uint256) = 128
# Most moves in one batch call; settlement splits deeper queues.
BATCH_MAX: constant(uint256) = 512

# snekmate keeps name and symbol in short immutables (25 and 5 bytes);
# pers names are longer, so the metadata getters are ours.
name: public(String[NAME_MAX])
symbol: public(String[SYMBOL_MAX])


@deploy
def __init__(name_: String[NAME_MAX], symbol_: String[SYMBOL_MAX], decimals_: uint8):
    ownable.__init__()
    # The EIP-712 domain only serves snekmate's `permit`, which this
    # token does not expose: custodial holders never sign.
    erc20.__init__("", "", decimals_, "pers credit", "1")
    self.name = name_
    self.symbol = symbol_


@internal
@view
def _check_operator():
    assert msg.sender == ownable.owner, "credit: caller is not the operator"


@internal
def _move(sender: address, receiver: address, amount: uint256):
    # The zero address on one side means mint or burn, as in `Transfer` logs.
    if sender == empty(address):
        erc20._mint(receiver, amount)
    elif receiver == empty(address):
        erc20._burn(sender, amount)
    else:
        erc20._transfer(sender, receiver, amount)


@external
def mint(to: address, amount: uint256):
    """
    @notice Creates `amount` base units for `to`. Operator only.
    """
    self._check_operator()
    erc20._mint(to, amount)


@external
def mintMany(to: DynArray[address, BATCH_MAX], amounts: DynArray[uint256, BATCH_MAX]):
    """
    @notice Mints `amounts[i]` to `to[i]` for every `i`, in one transaction.
            Operator only.
    """
    self._check_operator()
    assert len(to) == len(amounts), "credit: length mismatch"
    for i: uint256 in range(len(to), bound=BATCH_MAX):
        erc20._mint(to[i], amounts[i])


@external
def burnFrom(account: address, amount: uint256):
    """
    @notice Destroys `amount` of `account`'s balance without its approval.
            Operator only.
    """
    self._check_operator()
    erc20._burn(account, amount)


@external
def operatorTransfer(sender: address, receiver: address, amount: uint256):
    """
    @notice Moves `amount` from `sender` to `receiver` without an allowance.
            Operator only.
    """
    self._check_operator()
    erc20._transfer(sender, receiver, amount)


@external
def operatorBatch(
    senders: DynArray[address, BATCH_MAX],
    receivers: DynArray[address, BATCH_MAX],
    amounts: DynArray[uint256, BATCH_MAX],
):
    """
    @notice Applies the moves `senders[i] -> receivers[i]` of `amounts[i]`
            in order, all or none. A zero sender mints, a zero receiver
            burns. Operator only.
    """
    self._check_operator()
    assert len(senders) == len(receivers), "credit: length mismatch"
    assert len(senders) == len(amounts), "credit: length mismatch"
    for i: uint256 in range(len(senders), bound=BATCH_MAX):
        self._move(senders[i], receivers[i], amounts[i])


@external
def transferOwnership(newOwner: address):
    """
    @notice Hands the operator role to `newOwner`. Operator only.
    """
    self._check_operator()
    assert newOwner != empty(address), "credit: new operator is the zero address"
    ownable._transfer_ownership(newOwner)
