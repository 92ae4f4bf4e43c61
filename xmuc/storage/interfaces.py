"""
What the rest of xmuc may ask of storage.

A storage backend is one L{IStorage} provider grouping eight stores.  Every
method of every store returns a L{Deferred<twisted.internet.defer.Deferred>}:
backends that talk to a database run the query in a thread pool
(L{twisted.enterprise.adbapi}) and fire the Deferred once the change is
committed, so a caller may answer the client as soon as it fires.

When the database fails the Deferred fails with L{StorageError} (or its
subclass L{StorageUnavailable} when the database cannot be reached at all);
callers answer C{internal-server-error} and go on.

Values given to the stores (account credentials, room state) must be
JSON-serialisable; what comes back is what JSON gives back (lists, not
tuples; string keys).
"""

from zope.interface import Attribute, Interface


class StorageError(Exception):
    """
    The database failed to do what was asked.  The message says what went
    wrong but never contains the values (credentials) that were stored.
    """


class StorageUnavailable(StorageError):
    """
    The database cannot be reached (server down, connection lost, file
    locked).  The same call may work later: backends reconnect by themselves.
    """


#: The roster subscription states (RFC 6121 section 2.1.2.5).
SUBSCRIPTIONS = ("none", "to", "from", "both")


class IAccountStore(Interface):
    """
    Accounts by bare JID (C{'user@host'}), each with opaque credentials (the
    authentication layer decides their content; SQL backends keep them as
    JSON text).
    """

    def create(bare, credentials):
        """
        @param bare: the bare JID string.
        @param credentials: a JSON-serialisable dict.
        @return: Deferred firing with C{True} when created, C{False} when an
            account by that name already exists (nothing is changed then).
        """

    def get(bare):
        """
        @return: Deferred firing with the credentials dict, or L{None} when
            there is no such account.
        """

    def update(bare, credentials):
        """
        Replace the credentials of an existing account.

        @return: Deferred firing with C{True}, or C{False} when there is no
            such account (none is created).
        """

    def delete(bare):
        """
        @return: Deferred firing with C{True} when an account was deleted,
            C{False} when there was none.
        """

    def list(host=None):
        """
        @param host: only the accounts of this domain, or all when L{None}.
        @return: Deferred firing with a sorted list of bare JID strings.
        """


class IRosterStore(Interface):
    """
    Each account's roster: contact bare JID -> item, where an item is a dict
    C{name} (str or None), C{subscription} (one of L{SUBSCRIPTIONS}), C{ask}
    (None or C{'subscribe'}), C{groups} (list of str) and C{pending_in}
    (bool: a subscription request from the contact awaits an answer).
    """

    def get(bare):
        """
        @return: Deferred firing with C{{contact: item}} (empty when the
            account has no roster).
        """

    def set(bare, contact, item):
        """
        Add or replace one item.  Missing keys of C{item} take their default
        (C{name=None, subscription='none', ask=None, groups=[],
        pending_in=False}).

        @return: Deferred firing with L{None}; fails with L{ValueError} for
            an unknown C{subscription} or C{ask}.
        """

    def remove(bare, contact):
        """
        @return: Deferred firing with C{True} when the item existed.
        """

    def delete(bare):
        """
        Remove the whole roster of C{bare}.

        @return: Deferred firing with L{None}.
        """


class IRoomStore(Interface):
    """
    Persistent MUC rooms: one JSON-serialisable state dict per room (the MUC
    code decides what it holds: configuration, affiliations, nicks, subject).
    """

    def save(room_jid, state):
        """
        Create or replace the state of a room.

        @param room_jid: the bare room JID string C{'room@service'}.
        @return: Deferred firing with L{None}.
        """

    def get(room_jid):
        """
        @return: Deferred firing with the state dict or L{None}.
        """

    def delete(room_jid):
        """
        @return: Deferred firing with C{True} when a room was deleted.
        """

    def list(service_domain):
        """
        @param service_domain: the MUC service domain (C{'conference.host'}).
        @return: Deferred firing with a list of C{(room_jid, state)} sorted
            by room JID.
        """


class ITombstoneStore(Interface):
    """
    Names of deleted accounts and destroyed rooms, so that they are not
    reused by someone else too soon.  Callers decide expiry by comparing
    C{when} with their own setting; storage only stores.
    """

    def add(jid, kind, when=None):
        """
        Record (or refresh) a tombstone.

        @param jid: the bare JID string.
        @param kind: C{'account'} or C{'room'}.
        @param when: unix time (float); now when L{None}.
        @return: Deferred firing with L{None}; fails with L{ValueError} for
            an unknown C{kind}.
        """

    def get(jid):
        """
        @return: Deferred firing with C{dict(jid=, kind=, when=)} or L{None}.
        """

    def remove(jid):
        """
        @return: Deferred firing with C{True} when there was one.
        """

    def list(kind=None):
        """
        @param kind: only this kind, or all when L{None}.
        @return: Deferred firing with a list of dicts as returned by
            L{get}, oldest first.
        """


class IRoomArchive(Interface):
    """
    Recent messages of each room, for the history sent to new occupants.
    Backends keep a bounded number per room (L{maxPerRoom}, give or take a
    small margin: trimming is done in batches to keep appends cheap).
    """

    maxPerRoom = Attribute("How many messages per room are kept at least.")

    def append(room_jid, stanza_id, when, nick, xml):
        """
        @param room_jid: the bare room JID string.
        @param stanza_id: the id the room gave the message (str or None).
        @param when: unix time (float) the room received it.
        @param nick: the sender's nickname.
        @param xml: the serialized stanza.
        @return: Deferred firing with L{None} once stored.
        """

    def recent(room_jid, limit):
        """
        @return: Deferred firing with a list of
            C{dict(stanza_id=, when=, nick=, xml=)}, the C{limit} newest
            messages, oldest first.
        """

    def replace(room_jid, stanza_id, xml):
        """
        Replace the serialized stanza of the archived message C{stanza_id}
        of a room (e.g. by a moderation tombstone, XEP-0425); its time,
        nick and place in the archive stay.

        @param stanza_id: the id the room gave the message (str).
        @param xml: the new serialized stanza.
        @return: Deferred firing with C{True} when a message was replaced,
            C{False} when the room has no message C{stanza_id}.
        """

    def purge(room_jid):
        """
        Forget every message of a room.

        @return: Deferred firing with L{None}.
        """


class IOfflineStore(Interface):
    """
    Messages kept for local users who had no available session when they
    arrived (Prosody's mod_offline), until the user comes online.  Each
    user keeps at most L{limit} messages.
    """

    limit = Attribute("How many messages one user may have waiting.")

    def push(bare, when, xml):
        """
        Keep one message for a user.

        @param bare: the recipient's bare JID string.
        @param when: unix time (float) the server received it.
        @param xml: the serialized stanza.
        @return: Deferred firing with C{True} once stored, or C{False} (and
            nothing stored) when the user already has L{limit} messages:
            the caller bounces it then.
        """

    def pop(bare):
        """
        Take every message of a user: they are returned and removed in one
        go (a message pushed meanwhile is either returned or kept).

        @return: Deferred firing with a list of C{dict(when=, xml=)},
            oldest first (empty when there are none).
        """

    def count(bare):
        """
        @return: Deferred firing with the number of messages waiting.
        """

    def delete(bare):
        """
        Forget every message of a user (account deleted).

        @return: Deferred firing with L{None}.
        """


class IPepStore(Interface):
    """
    Personal eventing nodes (XEP-0163) of each account: per owner bare JID,
    nodes with a configuration dict (JSON-serialisable, opaque to storage
    but for C{max_items}) and their published items (serialized XML
    strings, opaque).

    Trimming is done here: when a node's configuration has an integer
    C{max_items} (an int, or a string of digits), L{publish} keeps only
    that many newest items of the node.  Any other value (missing, L{None},
    C{'max'}) keeps every item; the caller bounds them if it wants to.
    """

    def getNode(owner, node):
        """
        @param owner: the owner's bare JID string.
        @param node: the node name.
        @return: Deferred firing with the configuration dict, or L{None}
            when there is no such node.
        """

    def setNode(owner, node, config):
        """
        Create a node or replace its configuration (its items stay, though
        a smaller C{max_items} trims them at the next L{publish}).

        @param config: a JSON-serialisable dict.
        @return: Deferred firing with L{None}.
        """

    def deleteNode(owner, node):
        """
        Delete a node and all its items.

        @return: Deferred firing with C{True} when the node existed.
        """

    def listNodes(owner):
        """
        @return: Deferred firing with a list of C{(node, config)}, sorted by
            node name.
        """

    def publish(owner, node, item_id, xml, when):
        """
        Add an item, or replace the item of the same id; either way it
        becomes the newest item of the node.  Then trim the node to its
        C{max_items} (see the class docstring).  Publishing to a node that
        was never set works too (no configuration: no trimming).

        @param item_id: the item id (str).
        @param xml: the serialized item.
        @param when: unix time (float) of publication.
        @return: Deferred firing with L{None}.
        """

    def items(owner, node, max=None, ids=None):
        """
        @param max: at most this many (the newest), or all when L{None}.
        @param ids: only the items with these ids (a list), or all when
            L{None}.
        @return: Deferred firing with a list of C{dict(id=, xml=, when=)},
            newest first.
        """

    def retract(owner, node, item_id):
        """
        @return: Deferred firing with C{True} when the item existed (and is
            now deleted).
        """

    def deleteAll(owner):
        """
        Delete every node and item of an owner (account deleted).

        @return: Deferred firing with L{None}.
        """


class IAccountDataStore(Interface):
    """
    Small documents an account keeps on the server, each under a name (its
    blocklist, its vCard, its private XML fragments), as Prosody's
    key-value stores: per owner bare JID, name -> a JSON-serialisable
    value, opaque to storage.
    """

    def get(owner, name):
        """
        @param owner: the account's bare JID string.
        @param name: the document's name (str).
        @return: Deferred firing with the value, or L{None} when there is
            none.
        """

    def set(owner, name, value):
        """
        Create or replace a document.

        @param value: a JSON-serialisable value (not L{None}).
        @return: Deferred firing with L{None}.
        """

    def delete(owner, name):
        """
        @return: Deferred firing with C{True} when there was one.
        """

    def deleteAll(owner):
        """
        Delete every document of an owner (account deleted).

        @return: Deferred firing with L{None}.
        """


class IStorage(Interface):
    """
    A storage backend: the stores, and its life cycle.
    """

    name = Attribute("The backend name ('memory', 'sqlite', 'postgresql'...).")
    accounts = Attribute("The L{IAccountStore}.")
    rosters = Attribute("The L{IRosterStore}.")
    rooms = Attribute("The L{IRoomStore}.")
    tombstones = Attribute("The L{ITombstoneStore}.")
    archive = Attribute("The L{IRoomArchive}.")
    offline = Attribute("The L{IOfflineStore}.")
    pep = Attribute("The L{IPepStore}.")
    accountData = Attribute("The L{IAccountDataStore}.")

    def start():
        """
        Get ready: create or migrate the schema.  Must be called (and its
        Deferred waited for) before any store is used.

        @return: Deferred firing with L{None}, or failing with
            L{StorageError}.
        """

    def stop():
        """
        Release everything (flush, close connection pools).  The stores may
        not be used afterwards.

        @return: Deferred firing with L{None}.
        """
