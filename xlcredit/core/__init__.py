"""Pure credit-control calculations: no I/O, no clock, no Excel.

Everything here takes plain values and immutable records, and a validated
:class:`~xlcredit.core.policy.Policy`; ``as_of`` dates are always arguments.
"""
