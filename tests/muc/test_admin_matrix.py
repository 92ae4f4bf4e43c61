"""
Permission matrices of muc#admin (XEP-0045 sections 5.1.2, 5.2.2, 8 and
9): who may set which affiliation, and which role, on whom.  Each cell is
written out from the XEP's tables and texts, and checked against a fresh
room: allowed changes are applied, refused ones answer the given error
and change nothing.
"""

from twisted.trial import unittest

from tests.support.muc import ADMIN_IQ, ROOM, condition
from xmuc.testing.muc import MUCHarness

AFFILIATIONS = ("owner", "admin", "member", "none", "outcast")

OK, NA = "ok", "not-allowed"

#: Admins manage the member and outcast lists (XEP-0045 9.1-9.4); only owners
#: touch the admin and owner lists (10.3-10.7); every refusal is not-allowed,
#: as Prosody answers.  Key: (old, new).
ADMIN_ACTOR = {
    (old, new): (OK if old in ("member", "none", "outcast") and new in ("member", "none", "outcast")
                 else NA)
    for old in AFFILIATIONS for new in AFFILIATIONS
}


def expectedAffiliationChange(actor, old, new):
    if actor == "owner":
        return OK
    if actor == "admin":
        return ADMIN_ACTOR[(old, new)]
    # Members, unaffiliated users and outcasts: no admin use case at all.
    return NA


def createdRoom():
    """
    @return: C{(harness, room)}: a fresh L{MUCHarness} where
        user@localhost (Romeo) created L{ROOM}.
    """
    harness = MUCHarness()
    romeo = harness.client("user@localhost/r")
    romeo.join("room", "Romeo")
    return harness, harness.muc.rooms[ROOM]


def adminSet(client, item):
    """
    Send a muc#admin set of C{item} from C{client}.

    @return: L{OK} when answered with a result, else the error condition.
    """
    client.received()
    client.send(ADMIN_IQ % ("m", ROOM, "set", item))
    [answer] = [s for s in client.received() if s.name == "iq"]
    return OK if answer["type"] == "result" else condition(answer)[0]


class AffiliationMatrixTests(unittest.TestCase):
    """
    Actors owner/admin/member/none/outcast (in the room, except the
    outcast) set target@localhost from each affiliation to each other one.
    """

    def attempt(self, actor, old, new):
        harness, room = createdRoom()
        if actor != "owner":
            if actor != "none":
                room.affiliations["actor@localhost"] = actor
        else:
            room.affiliations["actor@localhost"] = "owner"
        if old != "none":
            room.affiliations["target@localhost"] = old
        client = harness.client("actor@localhost/a")
        if actor != "outcast":
            client.join("room", "Actor")
            self.assertIn("Actor", room.occupants)
        outcome = adminSet(client, "<item affiliation='%s' jid='target@localhost'/>" % (new,))
        current = room.affiliations.get("target@localhost", "none")
        return outcome, current

    def test_matrix(self):
        mismatches = []
        for actor in AFFILIATIONS:
            for old in AFFILIATIONS:
                for new in AFFILIATIONS:
                    expected = expectedAffiliationChange(actor, old, new)
                    outcome, current = self.attempt(actor, old, new)
                    wantedState = new if expected == OK else old
                    if (outcome, current) != (expected, wantedState):
                        mismatches.append("%s sets %s -> %s: got %s (now %s), expected %s (%s)"
                                          % (actor, old, new, outcome, current, expected, wantedState))
        self.assertEqual(mismatches, [])

    def test_tableIsNotTrivial(self):
        """
        The expectations exercise every outcome for admins.
        """
        self.assertEqual(set(ADMIN_ACTOR.values()), {OK, NA})


#: Actors and targets: name -> (affiliation, role).
ACTORS = {
    "owner": ("owner", "moderator"),
    "admin": ("admin", "moderator"),
    "modmember": ("member", "moderator"),
    "modnone": ("none", "moderator"),
    "participant": ("none", "participant"),
    "visitor": ("none", "visitor"),
}
TARGETS = ("owner", "admin", "member", "none", "modnone", "visitor")
TARGET_STATE = {
    "owner": ("owner", "moderator"),
    "admin": ("admin", "moderator"),
    "member": ("member", "participant"),
    "none": ("none", "participant"),
    "modnone": ("none", "moderator"),
    "visitor": ("none", "visitor"),
}

#: new role -> actor -> outcome per target in TARGETS order, Prosody's
#: rules (may_set_role):
#: - only moderators act (others: not-allowed);
#: - nobody acts on a higher affiliation; equals may act on each other and
#:   on themselves (an owner demotes an admin, kicks an owner);
#: - giving or taking moderator status (kicking a moderator too) is for
#:   admins and owners;
#: - the same checks apply when the target already has the role;
#: and section 8.4 for revoking voice (role visitor): never from an admin
#: or owner, only from an affiliation below the moderator's.
_PRIVILEGED_ROWS = {"owner": [OK] * 6, "admin": [NA] + [OK] * 5}
ROLE_MATRIX = {
    new: dict(
        _PRIVILEGED_ROWS,
        modmember=[NA] * 6 if new == "moderator" else [NA, NA, OK, OK, NA, OK],
        modnone=[NA] * 6 if new == "moderator" else [NA, NA, NA, OK, NA, OK],
        participant=[NA] * 6,
        visitor=[NA] * 6,
    )
    for new in ("none", "participant", "moderator")
}
ROLE_MATRIX["visitor"] = dict(
    owner=[NA, NA, OK, OK, OK, OK],
    admin=[NA, NA, OK, OK, OK, OK],
    modmember=[NA, NA, NA, OK, NA, OK],
    modnone=[NA, NA, NA, NA, NA, OK],
    participant=[NA] * 6,
    visitor=[NA] * 6,
)


class RoleMatrixTests(unittest.TestCase):
    """
    Every actor of L{ACTORS} sets every role on every target of
    L{TARGETS}, in an unmoderated semi-anonymous room.
    """

    def attempt(self, actor, target, new):
        harness, room = createdRoom()
        people = {"actor": ACTORS[actor], "target": TARGET_STATE[target]}
        clients = {}
        for name, (affiliation, role) in people.items():
            if affiliation != "none":
                room.affiliations[name + "@localhost"] = affiliation
            clients[name] = harness.client(name + "@localhost/x")
            clients[name].join("room", name)
            room.occupants[name].role = role
        outcome = adminSet(clients["actor"], "<item nick='target' role='%s'/>" % (new,))
        occupant = room.occupants.get("target")
        current = occupant.role if occupant is not None else "none"
        return outcome, current

    def test_matrix(self):
        mismatches = []
        for new, rows in ROLE_MATRIX.items():
            for actor, outcomes in rows.items():
                for target, expected in zip(TARGETS, outcomes):
                    outcome, current = self.attempt(actor, target, new)
                    wanted = new if expected == OK else TARGET_STATE[target][1]
                    if (outcome, current) != (expected, wanted):
                        mismatches.append("%s sets %s to %s: got %s (now %s), expected %s (%s)"
                                          % (actor, target, new, outcome, current, expected, wanted))
        self.assertEqual(mismatches, [])

    def test_everyCellDefined(self):
        for rows in ROLE_MATRIX.values():
            self.assertEqual(set(rows), set(ACTORS))
            for outcomes in rows.values():
                self.assertEqual(len(outcomes), len(TARGETS))
