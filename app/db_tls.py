"""TLS to MySQL/MariaDB from [database] ssl, ssl_ca, ssl_cert and ssl_key.

One SSLContext per process, handed to every connection: PyMySQL would otherwise build one
per connect (~20 ms each).
"""
import ssl

from app.config import ConfigError


def tls_context(options):
    """The SSLContext for [database] options, or None with ssl = off; ConfigError for unusable files."""
    mode = options["ssl"]
    if mode == "off":
        return None
    try:
        if mode == "verify":
            context = ssl.create_default_context(cafile=options["ssl_ca"] or None)
        else:
            # required: encrypted, but the server's certificate is not checked.
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if options["ssl_cert"]:
            context.load_cert_chain(options["ssl_cert"], options["ssl_key"] or None)
    except (OSError, ssl.SSLError) as error:
        raise ConfigError(f"[database] ssl = {mode}: cannot load ssl_ca / ssl_cert / ssl_key ({error})") from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def tls_failure(error):
    """What went wrong with TLS behind a failed MySQL connect (certificate refused, server
    without TLS), or None when the failure is something else (server down, wrong password)."""
    seen, pending = set(), [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLError):
            return str(current)
        text = " ".join(str(arg) for arg in current.args if not isinstance(arg, BaseException))
        if "SSL" in text:
            return text
        pending += [current.__cause__, current.__context__, getattr(current, "original_exception", None),
                    *(arg for arg in current.args if isinstance(arg, BaseException))]
    return None
