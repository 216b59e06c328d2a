"""Secrets kept out of the DEBUG logs of botocore, s3transfer and urllib3.

Those libraries log whole requests and responses at DEBUG, headers and
bodies included. The S3 backend installs `REDACTOR` on their loggers when it
makes its first client, so turning on DEBUG logging never writes a credential
or a signature to a log file.
"""

from __future__ import annotations

import logging
import re
import threading

__all__ = ["REDACTOR", "Redactor"]


class Redactor(logging.Filter):
    """Blanks secrets out of the DEBUG records of botocore and its HTTP stack.

    It goes by where a secret sits, not by its value, so credentials that
    botocore refreshes later (role credentials, AssumeRole, SSO) are blanked
    too: the ``x-amz-security-token`` header or query parameter, the
    signature of an ``Authorization`` header or a presigned URL, and any
    field whose name looks secret (``SecretAccessKey``, ``SessionToken``,
    ``Password``, ...) in XML, JSON, Python reprs or query strings.
    """

    LOGGERS = (
        "botocore.auth",
        "botocore.awsrequest",
        "botocore.client",
        "botocore.credentials",
        "botocore.endpoint",
        "botocore.hooks",
        "botocore.httpchecksum",
        "botocore.httpsession",
        "botocore.parsers",
        "botocore.retryhandler",
        "botocore.utils",
        "s3transfer.copies",
        "s3transfer.download",
        "s3transfer.futures",
        "s3transfer.manager",
        "s3transfer.tasks",
        "s3transfer.upload",
        "s3transfer.utils",
        "urllib3.connectionpool",
    )
    _SECRET_NAME = (
        r"(?:x-amz-security-token|security[_-]?token|session[_-]?token|"
        r"secret[_-]?access[_-]?key|secret[_-]?key|aws[_-]?secret[_-]?access[_-]?key|"
        r"sse[_-]?customer[_-]?key|password|client[_-]?secret|(?<![a-z_-])token)"
    )
    PATTERNS = (
        # name: value / name=value / 'name': b'value' / "name": "value" / <name>value<
        re.compile(
            r"(?i)(" + _SECRET_NAME + r"""['"]?\s*(?:[:=]|>)\s*(?:b?['"])?)"""
            r"""([^'"<>\s,&;}\\]+)"""
        ),
        # The signature proves knowledge of the secret key: never log it.
        re.compile(r"(?i)((?:signature|x-amz-signature)\s*[=:]\s*)([0-9a-f]{16,})"),
    )

    def __init__(self) -> None:
        super().__init__()
        self.installed = False
        self.lock = threading.Lock()

    def install(self) -> None:
        with self.lock:
            if not self.installed:
                for name in self.LOGGERS:
                    logging.getLogger(name).addFilter(self)
                self.installed = True

    @classmethod
    def redact(cls, text: str) -> str:
        for pattern in cls.PATTERNS:
            text = pattern.sub(r"\1***", text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


REDACTOR = Redactor()
