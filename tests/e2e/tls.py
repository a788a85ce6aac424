"""A throw-away certificate authority for the TLS tests, made with Debian's openssl program.

make_ca(directory) writes ca.pem (the CA the client trusts through --ca-file), server.pem and
server.key (a certificate for 127.0.0.1 and localhost signed by that CA) and other-ca.pem (a CA
that signed nothing here: trusting it instead must fail). server_context() wraps them for the
Python fakes.
"""
import http.server
import pathlib
import ssl
import subprocess


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_ca(directory):
    """Creates (once) the CA and the server certificate in `directory`; returns its paths."""
    d = pathlib.Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    paths = {name: d / f"{name}.pem" for name in ("ca", "server", "other-ca")}
    paths["server_key"] = d / "server.key"
    if all(p.exists() for p in paths.values()):
        return paths
    for ca in ("ca", "other-ca"):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key", "-out", f"{ca}.pem",
                 "-days", "2", "-subj", f"/CN=trend test {ca}", "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=127.0.0.1", cwd=d)
    (d / "server.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                  "extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.pem", "-days", "2", "-extfile", "server.ext", cwd=d)
    return paths


def server_context(cert, key):
    """An ssl.SSLContext serving `cert` (signed by the test CA)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert), str(key))
    return ctx


def serve_http(handler, port, cert_and_key, on_listening):
    """A fake service's HTTP server on 127.0.0.1:`port` (0: any), over TLS when `cert_and_key` is
    (CERT, KEY): calls on_listening(port), then serves until interrupted."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    if cert_and_key:
        server.socket = server_context(*cert_and_key).wrap_socket(server.socket, server_side=True)
    on_listening(server.server_address[1])
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
