"""
Compiling and deploying the opzk contracts.

Introduction
------------
``deploy`` only builds and deploys; it holds no protocol rules. Its modules:

- :mod:`deploy.paths`: where the toolchain and build outputs are
  (``OPZK_SOLC``, ``OPZK_ANVIL``, ``OPZK_BUILD_DIR``).
- :mod:`deploy.compiler`: Solidity → ABIs and bytecode through py-solc-x,
  with a content-addressed cache under ``build/contracts/``.
- :mod:`deploy.anvil`: start and stop a local Anvil node (chain id 31337).
"""
