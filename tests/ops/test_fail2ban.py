"""
The fail2ban filter shipped in C{contrib/fail2ban/filter.d/xmuc.conf}
finds the address of every failed login, and nothing else, in the log the
real server (C{twistd -n xmuc}) writes: by its C{failregex} translated
as fail2ban does, and by fail2ban's own C{fail2ban-regex} (Debian's
C{fail2ban}, installed by .ci/run; required when
C{XMUC_REQUIRE_FAIL2BAN=1}).
"""

import configparser
import os
import re
import shutil

from twisted.internet import defer, utils
from twisted.trial import unittest

from tests.support.client import AuthenticationFailed, connectClient
from tests.support.twistd import startTwistd, stopCleanly, tapConfig

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FILTER = os.path.join(ROOT, "contrib", "fail2ban", "filter.d", "xmuc.conf")
JAIL = os.path.join(ROOT, "contrib", "fail2ban", "jail.d", "xmuc.conf")
PASSWORD = "Right-Password-5521"


def failRegex():
    """
    @return: the filter's C{failregex}, compiled with C{<HOST>} as a named
        group C{host} (fail2ban's own definition accepts an IPv4 or IPv6
        address or a host name there: one word).
    """
    parser = configparser.ConfigParser(interpolation=None)
    with open(FILTER, encoding="utf-8") as f:
        parser.read_file(f)
    pattern = parser.get("Definition", "failregex").strip()
    return re.compile(pattern.replace("<HOST>", r"(?P<host>[^\s]+)"))


class Fail2banFilterTests(unittest.TestCase):
    @defer.inlineCallbacks
    def serverLog(self):
        """
        Run the server, register an account, fail two logins (a wrong
        password, an unknown account), log in once, and keep what the
        server wrote.

        @return: Deferred firing with the path of the log file.
        """
        server = yield startTwistd(
            self,
            tapConfig(
                auth={"backend": "internal", "allow_insecure": None},
                c2s={"allow_registration": "true"},
                log={"level": "info"},
            ),
        )
        client = yield connectClient(server.port)
        yield client.openStream()
        reply = yield client.iq(
            "<iq type='set' id='reg'><query xmlns='jabber:iq:register'>"
            "<username>alice</username><password>%s</password></query></iq>" % (PASSWORD,)
        )
        self.assertEqual(reply.getAttribute("type"), "result", reply.toXml())
        for username, password in (("alice", "wrong"), ("mallory", PASSWORD)):
            client = yield connectClient(server.port)
            yield client.openStream()
            yield self.assertFailure(
                client.authenticate(username, password, "SCRAM-SHA-256"), AuthenticationFailed
            )
            client.transport.loseConnection()
            yield client.closed
        client = yield connectClient(server.port)
        yield client.login("alice", PASSWORD, "r", mechanism="SCRAM-SHA-256")
        yield client.close()
        output = yield stopCleanly(self, server)
        path = os.path.join(server.directory, "twistd.log")
        with open(path, "w", encoding="utf-8") as f:
            f.write(output)
        return path

    @defer.inlineCallbacks
    def test_failRegex(self):
        path = yield self.serverLog()
        regex = failRegex()
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        hosts = [m.group("host") for m in map(regex.search, lines) if m is not None]
        self.assertEqual(hosts, ["127.0.0.1", "127.0.0.1"], "\n".join(lines))
        self.assertEqual(len([line for line in lines if "failed login" in line]), 2)

    @defer.inlineCallbacks
    def test_fail2banRegex(self):
        program = shutil.which("fail2ban-regex")
        if program is None:
            if os.environ.get("XMUC_REQUIRE_FAIL2BAN"):
                self.fail("fail2ban-regex is not installed (Debian package fail2ban)")
            raise unittest.SkipTest("fail2ban-regex is not installed (Debian package fail2ban)")
        path = yield self.serverLog()
        out, err, code = yield utils.getProcessOutputAndValue(
            program, ("--out", "ip", path, FILTER), env=dict(os.environ)
        )
        self.assertEqual(code, 0, err)
        self.assertEqual(out.decode().split(), ["127.0.0.1", "127.0.0.1"], err)

    def test_jail(self):
        """
        The example jail uses the filter and names the client port.
        """
        parser = configparser.ConfigParser(interpolation=None)
        with open(JAIL, encoding="utf-8") as f:
            parser.read_file(f)
        self.assertEqual(parser.get("xmuc", "filter"), "xmuc")
        self.assertEqual(parser.get("xmuc", "port"), "5222")
