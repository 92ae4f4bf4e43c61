"""
The fuzz target's seeds: the stanzas the project's scansion scripts send
(C{tests/scripts/*.scs} and the shared seeds), read with the scansion
parser and turned into replayable steps for a fixed pool of accounts.

A script's clients become I{slots} of the pool: its first account is
C{fuzz0@localhost}, its second C{fuzz1@localhost} and so on; two clients of
one account (multi-session scripts) are two resources of that account.  The
script's variables (C{${Romeo's full JID}}) and the literal JIDs of its
accounts are replaced by the slot's, so that every script plays with the
same few logged-in connections.
"""

import os
import re
from dataclasses import dataclass

from xmuc.testing import scansion

DOMAIN = "localhost"
MUC_DOMAIN = "conference.localhost"

CONNECT = "connect"
DISCONNECT = "disconnect"
SEND = "send"


def slotBare(account):
    """
    @param account: the account index of a slot.
    @return: the bare JID of that pool account.
    """
    return "fuzz%d@%s" % (account, DOMAIN)


def slotResource(resource):
    """
    @param resource: the resource index of a slot.
    @return: the resource the pool binds for it.
    """
    return "r%d" % (resource,)


def slotFull(slot):
    """
    @param slot: C{(account, resource)}.
    @return: the full JID of that connection of the pool.
    """
    account, resource = slot
    return "%s/%s" % (slotBare(account), slotResource(resource))


@dataclass
class Step:
    """
    One action of a seed script, for the pool.

    @ivar kind: L{CONNECT}, L{DISCONNECT} or L{SEND}.
    @ivar slot: C{(account, resource)} of the pool connection acting.
    @ivar stanza: for L{SEND}, the stanza (a L{domish.Element} to be
        copied, never changed), else L{None}.
    """

    kind: str
    slot: tuple
    stanza: object = None


@dataclass
class Seed:
    """
    A script made replayable: its steps and where its sends are.

    @ivar name: the script file name.
    @ivar steps: the L{Step}s in order.
    @ivar sends: the indexes in C{steps} of the L{SEND} steps.
    """

    name: str
    steps: list
    sends: list


def scriptFiles(folders):
    """
    @param folders: the folders to look in (missing ones are skipped).
    @return: the paths of the C{.scs} files in them, sorted by folder then
        name, so that seeds are numbered the same on every machine.
    """
    paths = []
    for folder in folders:
        if not os.path.isdir(folder):
            continue
        paths.extend(
            os.path.join(folder, name) for name in sorted(os.listdir(folder)) if name.endswith(".scs")
        )
    return paths


def slotsOf(script):
    """
    @param script: a L{scansion.Script}.
    @return: C{{client name: (account, resource)}}, accounts numbered in
        the order the script declares them.
    """
    accounts = {}
    resources = {}
    slots = {}
    for name, spec in script.clients.items():
        account = accounts.setdefault(spec.jid.lower(), len(accounts))
        resource = resources.get(account, 0)
        resources[account] = resource + 1
        slots[name] = (account, resource)
    return slots


def loadSeed(path):
    """
    Read a script and make it a L{Seed} for the pool.

    @param path: a C{.scs} file.
    @return: the L{Seed}.
    @raise scansion.ScriptSyntaxError: a malformed script.
    """
    script = scansion.loadScript(path)
    slots = slotsOf(script)

    def lookup(name, what):
        if what == "JID":
            return slotBare(slots[name][0])
        return slotFull(slots[name])

    # Literal addresses of the script's accounts, longest first so that a
    # full JID is replaced before the bare JID it contains.
    literals = []
    for name, spec in script.clients.items():
        if spec.resource:
            literals.append(("%s/%s" % (spec.jid, spec.resource), slotFull(slots[name])))
        literals.append((spec.jid, slotBare(slots[name][0])))
    literals.sort(key=lambda pair: -len(pair[0]))
    pattern = re.compile(
        r"(?<![\w.-])(?:%s)" % "|".join(re.escape(literal) for literal, _ in literals),
        re.IGNORECASE,
    )
    replacements = {literal.lower(): value for literal, value in literals}

    steps = []
    sends = []
    for action in script.actions:
        slot = slots[action.client]
        if action.kind == scansion.CONNECTS:
            steps.append(Step(CONNECT, slot))
        elif action.kind == scansion.DISCONNECTS:
            steps.append(Step(DISCONNECT, slot))
        elif action.kind == scansion.SENDS:
            text = scansion.substitute(action.xml_text, lookup, script.filename, action.xml_lineno)
            text = pattern.sub(lambda found: replacements[found.group(0).lower()], text)
            element = scansion.stanzaToSend(
                scansion.parseStanza(text, script.filename, action.xml_lineno)
            )
            sends.append(len(steps))
            steps.append(Step(SEND, slot, element))
    return Seed(os.path.basename(path), steps, sends)


def loadSeeds(folders):
    """
    @param folders: where the scripts are.
    @return: the L{Seed}s of every script that sends something.
    """
    seeds = [loadSeed(path) for path in scriptFiles(folders)]
    return [seed for seed in seeds if seed.sends]


def accountsNeeded(seeds):
    """
    @return: how many pool accounts the seeds use at most.
    """
    return max(step.slot[0] for seed in seeds for step in seed.steps) + 1


_ROOM = re.compile(r"([^\s\"'<>&@/]+)@(%s)" % (re.escape(MUC_DOMAIN),), re.IGNORECASE)


def roomsOfRound(xml, round):
    """
    Give every room address of a serialized stanza the round's own name,
    so that each round of the fuzzer starts with rooms nobody used.

    @param xml: the serialized stanza.
    @param round: the round number.
    @return: the stanza with C{name@conference.localhost} made
        C{name-round@conference.localhost}.
    """
    return _ROOM.sub(lambda found: "%s-f%d@%s" % (found.group(1), round, found.group(2)), xml)
