"""Directory (LDAP) sign-in: hospitals keep their staff in a directory.

Two ways to find the user's entry: a DN template (``uid={login},ou=people,dc=...``), or a
search under a base DN with a filter (``(uid={login})``), bound as a service account or
anonymously. The password is then checked by binding as that entry. The login is escaped for
the DN or the filter, and an empty password is refused before any bind (LDAP treats a simple
bind with an empty password as an anonymous bind, which "succeeds").
"""

from __future__ import annotations

from dataclasses import dataclass

from ldap3 import ALL_ATTRIBUTES, Connection, Server
from ldap3.core.exceptions import LDAPBindError, LDAPException, LDAPInvalidCredentialsResult
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn


class DirectoryUnavailable(Exception):
    """The directory did not answer, or refused the service account."""


@dataclass(frozen=True)
class DirectoryConfig:
    url: str
    user_dn: str | None = None  # template with {login}
    base_dn: str | None = None  # search mode
    user_filter: str = "(uid={login})"
    bind_dn: str | None = None  # service account for the search; None: anonymous search
    bind_password: str | None = None
    timeout_s: int = 5


@dataclass(frozen=True)
class DirectoryUser:
    login: str
    dn: str
    email: str
    first_name: str
    last_name: str


class Directory:
    def __init__(self, config: DirectoryConfig) -> None:
        if not config.user_dn and not config.base_dn:
            raise ValueError("a directory needs a user DN template or a base DN to search")
        self.config = config

    def _server(self) -> Server:
        return Server(self.config.url, connect_timeout=self.config.timeout_s)

    def authenticate(self, login: str, password: str) -> DirectoryUser | None:
        """The user's entry when the password is right; None when the login or password is
        wrong. Blocking: call it from a thread."""
        if not login or not password:
            return None
        try:
            dn = self._find(login)
            if dn is None:
                return None
            conn = Connection(self._server(), user=dn, password=password,
                              receive_timeout=self.config.timeout_s)  # fmt: skip
            try:
                if not conn.bind():
                    return None
                conn.search(dn, "(objectClass=*)", search_scope="BASE", attributes=ALL_ATTRIBUTES)
                attributes = conn.entries[0].entry_attributes_as_dict if conn.entries else {}
            finally:
                conn.unbind()
        except (LDAPBindError, LDAPInvalidCredentialsResult):
            return None
        except LDAPException as exc:
            raise DirectoryUnavailable(f"directory {self.config.url}: {exc}") from exc
        return DirectoryUser(
            login=login,
            dn=dn,
            email=_first(attributes, "mail"),
            first_name=_first(attributes, "givenName"),
            last_name=_first(attributes, "sn"),
        )

    def _find(self, login: str) -> str | None:
        c = self.config
        if c.user_dn:
            return c.user_dn.format(login=escape_rdn(login))
        assert c.base_dn is not None
        conn = Connection(self._server(), user=c.bind_dn, password=c.bind_password,
                          receive_timeout=c.timeout_s)  # fmt: skip
        try:
            if not conn.bind():
                raise DirectoryUnavailable(f"directory {c.url} refused the service account")
            conn.search(c.base_dn, c.user_filter.format(login=escape_filter_chars(login)),
                        attributes=[])  # fmt: skip
            found = [e.entry_dn for e in conn.entries]
        finally:
            conn.unbind()
        return found[0] if len(found) == 1 else None


def _first(attributes: dict[str, list[object]], name: str) -> str:
    values = attributes.get(name) or []
    return str(values[0]) if values else ""
