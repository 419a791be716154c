"""Which post-sales executive an account gets when it first needs one.

The rotation is fair by load: the account goes to the executive of the rotation who
has the fewest accounts now, ties going to the one listed first. Accounts assigned by
the CRM count towards an executive's load too, so the rotation evens out whatever the
CRM did; an executive who joins the rotation receives new accounts until level with
the others. Only the configured roster rotates; an executive the CRM names is assigned
where the CRM says and joins no rotation.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Executive:
    executive_id: str
    name: str
    email: str


def next_in_rotation(rotation: Sequence[Executive], load: Mapping[str, int]) -> Executive | None:
    """The executive of the rotation with the fewest accounts (first listed on a tie); None if nobody rotates."""
    if not rotation:
        return None
    return min(rotation, key=lambda executive: load.get(executive.executive_id, 0))
