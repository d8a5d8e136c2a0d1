"""
opzk: an optimistic zkML verification marketplace on an EVM chain.

The ``opzk`` command (``opzk.cli:main``) is the user-facing entry point; the
packages beside this one hold the protocol rules (``protocol``), the
toolchain and deployment (``deploy``), the inference node (``node``), the
challenger bot (``challenger``) and the prover (``prover``).
"""
