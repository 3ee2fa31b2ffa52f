"""Local SUTs for the demo and the tests: OpenSSH servers on loopback addresses.

They are this very machine: the scheduler recognises that (same machine id)
and never installs, reboots or kexecs anything on them; their class boots by
`power_cycle` with this package's simulated boot, or not at all.
"""

from fastpath.testbed.bed import Testbed
from fastpath.testbed.sut import TestbedError, TestSut

__all__ = ["TestSut", "Testbed", "TestbedError"]
