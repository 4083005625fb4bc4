package dev.verity.ledger;

import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.crypto.Signer;
import dev.verity.core.merkle.MerkleTree;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Rules that tie blocks into a chain: the genesis block, sealing an executed block under a signed
 * header, and checking and re-executing a block on top of the previous one (what recovery and any
 * auditor do).
 */
public final class Chain {
  private static final Hash EMPTY_ROOT = MerkleTree.ofLeaves(List.of()).root();

  private Chain() {}

  /**
   * Block 0: no transactions; its state root commits to the genesis configuration and allocations.
   * Ed25519 signatures are deterministic, so the same key and configuration always give the same
   * genesis block.
   */
  public static Block genesisBlock(GenesisConfig config, Signer sequencer) {
    requireSequencer(config, sequencer);
    LedgerState state = LedgerState.genesis(config);
    BlockHeader header = BlockHeader.sign(config.chainId(), 0, BlockHeader.ZERO, EMPTY_ROOT,
        EMPTY_ROOT, state.root(), config.genesisTimeMillis(), 0, 0, sequencer);
    return new Block(header, List.of());
  }

  static void requireSequencer(GenesisConfig config, Signer sequencer) {
    if (!config.sequencer().equals(sequencer.publicKey())) {
      throw new IllegalArgumentException("the genesis names sequencer " + config.sequencer()
          + "; this key is " + sequencer.publicKey());
    }
  }

  /**
   * Signs the header for an executed block at the execution's block time (which must not be before
   * the previous header's).
   */
  static Block seal(BlockExecution execution, LedgerState next, BlockHeader previous, Signer sequencer) {
    long timeMillis = execution.timeMillis();
    if (timeMillis < previous.timeMillis()) {
      throw new IllegalArgumentException("block time " + timeMillis + " is before the previous block's");
    }
    List<SignedTransaction> txs = new ArrayList<>();
    for (VerifiedTransaction v : execution.included()) {
      txs.add(v.signed());
    }
    BlockHeader header = BlockHeader.sign(previous.chainId(), execution.height(), previous.hash(),
        Block.transactionsRoot(txs), MerkleTree.ofLeaves(execution.receiptLeaves()).root(),
        next.root(), Math.max(timeMillis, previous.timeMillis()), txs.size(),
        execution.receiptLeaves().size(), sequencer);
    return new Block(header, txs);
  }

  /**
   * Checks {@code block} against the previous header and the state after it, re-executes it and
   * returns the state after it. Every transaction's signature is checked (in batches, in parallel).
   *
   * @throws VerificationException if the block does not follow, is not signed by the genesis
   *     sequencer, holds a transaction the rules reject, or its roots do not match the execution
   */
  public static LedgerState applyBlock(LedgerState state, BlockHeader previous, Block block)
      throws VerificationException {
    return applyBlock(state, previous, block, DisputeReferee.NONE);
  }

  /**
   * As {@link #applyBlock(LedgerState, BlockHeader, Block)}, with {@code referee} ruling on the
   * block's dispute proofs (needed to re-execute blocks that decide disputes by a proof).
   */
  public static LedgerState applyBlock(LedgerState state, BlockHeader previous, Block block,
      DisputeReferee referee) throws VerificationException {
    List<VerifiedTransaction> verified = new ArrayList<>(block.transactions().size());
    List<Object> results = TransactionSignatures.checkInParallel(block.transactions());
    for (Object r : results) {
      if (r instanceof VerificationException e) {
        throw new VerificationException("block " + block.height() + ": " + e.getMessage(), e);
      }
      verified.add((VerifiedTransaction) r);
    }
    return execute(state, previous, block, verified, referee);
  }

  /** As {@link #applyBlock} but trusting the transactions' signatures (the sequencer's own log). */
  static LedgerState applyTrusted(LedgerState state, BlockHeader previous, Block block,
      DisputeReferee referee) throws VerificationException {
    List<VerifiedTransaction> verified = new ArrayList<>(block.transactions().size());
    for (SignedTransaction t : block.transactions()) {
      verified.add(new VerifiedTransaction(t));
    }
    return execute(state, previous, block, verified, referee);
  }

  private static LedgerState execute(LedgerState state, BlockHeader previous, Block block,
      List<VerifiedTransaction> txs, DisputeReferee referee) throws VerificationException {
    BlockHeader h = block.header();
    if (h.height() != previous.height() + 1 || !h.previous().equals(previous.hash())) {
      throw new VerificationException("block " + h.height() + " does not follow block "
          + previous.height() + " (" + previous.hash() + ")");
    }
    if (state.height() != previous.height()) {
      throw new IllegalArgumentException("state is at height " + state.height()
          + ", previous header at " + previous.height());
    }
    if (!h.chainId().equals(previous.chainId()) || h.timeMillis() < previous.timeMillis()) {
      throw new VerificationException("block " + h.height() + " changes chain or goes back in time");
    }
    block.verify(state.config().sequencer());
    BlockExecution exec = state.begin(h.height(), previous.hash(), h.timeMillis(), referee);
    for (int i = 0; i < txs.size(); i++) {
      try {
        exec.apply(txs.get(i));
      } catch (TransactionRejected e) {
        throw new VerificationException("block " + h.height() + " holds transaction " + i
            + " that the rules reject: " + e.getMessage(), e);
      }
    }
    LedgerState next = exec.finish();
    if (!next.root().equals(h.stateRoot())) {
      throw new VerificationException("block " + h.height() + " executes to state root " + next.root()
          + ", header says " + h.stateRoot());
    }
    return next;
  }

  /**
   * Replays a whole chain from genesis: {@code blocks} must start with block 0. Checks everything
   * {@link #applyBlock} checks, and that block 0 is this configuration's genesis block.
   *
   * @return the state after the last block
   */
  public static LedgerState replay(GenesisConfig config, Iterable<Block> blocks) throws VerificationException {
    return replay(config, blocks, DisputeReferee.NONE);
  }

  /** As {@link #replay(GenesisConfig, Iterable)}, with {@code referee} ruling on dispute proofs. */
  public static LedgerState replay(GenesisConfig config, Iterable<Block> blocks, DisputeReferee referee)
      throws VerificationException {
    Iterator<Block> it = blocks.iterator();
    if (!it.hasNext()) {
      throw new VerificationException("a chain starts with its genesis block; none given");
    }
    Block genesis = it.next();
    LedgerState state = LedgerState.genesis(config);
    BlockHeader g = genesis.header();
    if (g.height() != 0 || !g.stateRoot().equals(state.root()) || !genesis.transactions().isEmpty()
        || !g.chainId().equals(config.chainId())) {
      throw new VerificationException("block 0 is not the genesis block of chain '" + config.chainId() + "'");
    }
    g.verifySignature(config.sequencer());
    BlockHeader previous = g;
    while (it.hasNext()) {
      Block b = it.next();
      state = applyBlock(state, previous, b, referee);
      previous = b.header();
    }
    return state;
  }
}
