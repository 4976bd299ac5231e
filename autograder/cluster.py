"""Grading on a Dask cluster: TLS certificates, the client's security settings, the executor.

    python -m autograder dask-certs /root/agcerts          # ca.pem, node.pem, node-key.pem (key 0600)
    dask scheduler --protocol tls --host 10.0.0.1 --tls-ca-file ca.pem --tls-cert node.pem --tls-key node-key.pem
    dask worker tls://10.0.0.1:8786 --no-nanny --nthreads 2 --local-directory /root/dask-worker \
        --tls-ca-file ca.pem --tls-cert node.pem --tls-key node-key.pem
    python -m autograder autograde SUBS --dask tls://10.0.0.1:8786 --dask-tls-dir /root/agcerts

Why TLS: anyone who can open a connection to a plain-TCP scheduler can run any function as the
workers' user, and workers run as root (they must, to jail each kernel). distributed's TLS is mutual:
the scheduler and the workers accept only peers whose certificate our CA signed, so only holders of
`node-key.pem` (root-only, 0600, on the grading machines) get in. Student kernels additionally run in
their own network namespace (see jail.py), so they cannot reach the scheduler at all.

Tasks carry bytes, not paths (the notebook text and its support files, see runner._task), so workers
need no shared filesystem: each one only needs this repository installed at the same version.
"""
from __future__ import annotations

import concurrent.futures as cf
import datetime
import os
from pathlib import Path

CA_FILE, CERT_FILE, KEY_FILE = "ca.pem", "node.pem", "node-key.pem"


class ClusterError(RuntimeError):
    """The Dask cluster cannot be used (certificates missing, scheduler unreachable); says which."""


def write_certificates(folder: Path, days: int = 365) -> dict[str, Path]:
    """A throw-away CA and one certificate it signs, used by the scheduler, every worker and the grader.

    The CA's private key is never written: no one can later sign another certificate that the cluster
    would trust. To add a machine, copy the three files; to revoke, generate new ones everywhere."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "autograder dask CA")])
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                            key_encipherment=False, data_encipherment=False, key_agreement=False,
                                            key_cert_sign=True, crl_sign=True, encipher_only=False,
                                            decipher_only=False), critical=True)
               .sign(ca_key, hashes.SHA256()))
    node_key = ec.generate_private_key(ec.SECP256R1())
    node_cert = (x509.CertificateBuilder()
                 .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "autograder dask node")]))
                 .issuer_name(ca_name).public_key(node_key.public_key())
                 .serial_number(x509.random_serial_number())
                 .not_valid_before(now - datetime.timedelta(minutes=5))
                 .not_valid_after(now + datetime.timedelta(days=days))
                 .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                 # Every node is both a TLS server (scheduler, worker) and a client (worker, grader).
                 .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                       ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
                 .sign(ca_key, hashes.SHA256()))
    paths = {"ca": folder / CA_FILE, "cert": folder / CERT_FILE, "key": folder / KEY_FILE}
    pem = serialization.Encoding.PEM
    paths["ca"].write_bytes(ca_cert.public_bytes(pem))
    paths["cert"].write_bytes(node_cert.public_bytes(pem))
    fd = os.open(paths["key"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(node_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    os.chmod(paths["key"], 0o600)
    return paths


def security(tls_dir: Path | None):
    """distributed's Security for our certificate folder; None means dask's own configuration
    (`distributed.comm.tls.*`, e.g. DASK_DISTRIBUTED__COMM__TLS__CA_FILE), which is plain TCP unless set."""
    from distributed.security import Security

    if tls_dir is None:
        return Security()
    tls_dir = Path(tls_dir)
    missing = [name for name in (CA_FILE, CERT_FILE, KEY_FILE) if not (tls_dir / name).is_file()]
    if missing:
        raise ClusterError(f"--dask-tls-dir {tls_dir}: missing {', '.join(missing)} "
                                "(make them with `python -m autograder dask-certs DIR`)")
    return Security(tls_ca_file=str(tls_dir / CA_FILE), tls_client_cert=str(tls_dir / CERT_FILE),
                    tls_client_key=str(tls_dir / KEY_FILE), require_encryption=True)


class DaskExecutor(cf.Executor):
    """concurrent.futures face of a Dask client that we own: shutting it down closes the client.

    pure=False: two students with byte-identical notebooks still get their own task (and result)."""

    def __init__(self, address: str, tls_dir: Path | None = None, timeout: float = 30):
        from distributed import Client

        if address.startswith("tls://") and tls_dir is None and not _tls_configured():
            raise ClusterError(f"{address} is a TLS scheduler: pass --dask-tls-dir with ca.pem, node.pem, node-key.pem")
        try:
            self.client = Client(address, security=security(tls_dir), timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise ClusterError(f"cannot connect to the Dask scheduler at {address} within {timeout:g} s "
                               f"({type(exc).__name__}: {exc})") from exc
        self._executor = self.client.get_executor(pure=False)

    def submit(self, fn, /, *args, **kwargs):
        return self._executor.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False):
        try:
            self._executor.shutdown(wait=wait)
        finally:
            self.client.close()


def _tls_configured() -> bool:
    import dask

    return bool(dask.config.get("distributed.comm.tls.ca-file", None))
