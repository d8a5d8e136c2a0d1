"""
SumKZG-ML: sumcheck + multilinear KZG proofs that a sensitive (private-weight) partition computed
its public output from its public input. The normative specification is docs/proof-system.md.

The public API, re-exported here:

* :func:`commit_weights` → :class:`WeightCommitment` (once per model, kept next to it);
* :func:`prove_registration` / :func:`verify_registration` on a :class:`RegistrationStatement`;
* :func:`prove_inference` / :func:`verify_inference` on an :class:`InferenceStatement`;
* :func:`prove_stack` / :func:`verify_stack` on a :class:`StackStatement` (a two-layer partition,
  docs/proof-system-stack.md; its matrices from :func:`stack_matrices`);
* :func:`prove_batch` / :func:`verify_batch` on a :class:`BatchStatement` (``B`` inferences of one
  layer in one proof, docs/proof-system-batch.md);
* :func:`load_setup` for the pinned ceremony setup.

Verifiers raise a :class:`ProofRejected` subclass; provers raise :class:`WitnessError` when asked to
prove something their own computation contradicts.
"""

from .batched import (
    DOMAIN_BATCH,
    MAX_BATCH,
    BatchStatement,
    batch_proof_len,
    prove_batch,
    verify_batch,
)
from .errors import (
    EncodingError,
    OpeningRejected,
    ProofRejected,
    SetupError,
    SumKzgError,
    WitnessError,
)
from .inference import prove_inference, verify_inference
from .layout import Layout, LayoutError, LimbLayout
from .registration import (
    WeightCommitment,
    commit_weights,
    prove_registration,
    verify_registration,
)
from .setup import SETUP_ID, Setup, load_setup
from .stack import (
    DOMAIN_STACK,
    STACK_EXTRA_ROWS,
    StackError,
    StackLayer,
    StackStatement,
    prove_stack,
    stack_commitment_hash,
    stack_matrices,
    stack_proof_len,
    verify_stack,
)
from .statement import InferenceStatement, RegistrationStatement, StatementError

__all__ = [
    "DOMAIN_BATCH",
    "DOMAIN_STACK",
    "MAX_BATCH",
    "SETUP_ID",
    "STACK_EXTRA_ROWS",
    "BatchStatement",
    "EncodingError",
    "InferenceStatement",
    "Layout",
    "LayoutError",
    "LimbLayout",
    "OpeningRejected",
    "ProofRejected",
    "RegistrationStatement",
    "Setup",
    "SetupError",
    "StackError",
    "StackLayer",
    "StackStatement",
    "StatementError",
    "SumKzgError",
    "WeightCommitment",
    "WitnessError",
    "batch_proof_len",
    "commit_weights",
    "load_setup",
    "prove_batch",
    "prove_inference",
    "prove_registration",
    "prove_stack",
    "stack_commitment_hash",
    "stack_matrices",
    "stack_proof_len",
    "verify_batch",
    "verify_inference",
    "verify_registration",
    "verify_stack",
]
