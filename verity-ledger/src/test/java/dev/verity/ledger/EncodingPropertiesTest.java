package dev.verity.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import dev.verity.core.crypto.Address;
import dev.verity.core.crypto.Signer;
import dev.verity.core.merkle.MerkleTree;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** Every encoded type round-trips; altered bytes fail to decode or to verify; hostile bytes are refused. */
class EncodingPropertiesTest {
  private static final Signer SIGNER = Fixtures.ALICE;

  private static Arbitrary<Address> addresses() {
    return Arbitraries.bytes().array(byte[].class).ofSize(Address.LENGTH).map(Address::fromBytes);
  }

  private static Arbitrary<Hash> hashes() {
    return Arbitraries.bytes().array(byte[].class).ofSize(8).map(Hash::of);
  }

  private static Arbitrary<Cid> cids() {
    return Arbitraries.bytes().array(byte[].class).ofMaxSize(8).map(Cid::raw);
  }

  private static Arbitrary<Integer> steps() {
    return Arbitraries.integers().between(1, TraceCommitment.MAX_STEPS);
  }

  private static Arbitrary<TraceCommitment> traces() {
    return Combinators.combine(hashes(), steps(), cids(), cids()).as(TraceCommitment::new);
  }

  private static Arbitrary<Long> positive() {
    return Arbitraries.oneOf(Arbitraries.longs().between(1, 1_000), Arbitraries.longs().between(1, Long.MAX_VALUE));
  }

  @Provide
  Arbitrary<Action> actions() {
    Arbitrary<Action.CommitReceipts.Entry> entry = Combinators.combine(hashes(), cids(), traces().optional())
        .as(Action.CommitReceipts.Entry::new);
    return Arbitraries.oneOf(
        Combinators.combine(addresses(), positive()).as(Action.Transfer::new),
        positive().map(Action.Stake::new),
        positive().map(Action.BeginUnstake::new),
        Arbitraries.just(new Action.Withdraw()),
        Combinators.combine(
                Arbitraries.of("https://a.example", "http://10.0.0.1:8080/x", "https://w.example/p?q=1"),
                Arbitraries.subsetOf(EnumSet.allOf(NodeRole.class)).ofMinSize(1),
                cids().list().uniqueElements().ofMaxSize(4),
                Arbitraries.longs().between(1, 1_000_000),
                Arbitraries.longs().between(0, Long.MAX_VALUE))
            .as(Action.RegisterNode::new),
        Arbitraries.just(new Action.Heartbeat()),
        Combinators.combine(cids(), Arbitraries.longs().between(0, Long.MAX_VALUE)).as(Action.RegisterModel::new),
        Combinators.combine(cids(), addresses().optional(), Arbitraries.integers().between(1, 1_000_000), positive())
            .as(Action.OpenJob::new),
        Combinators.combine(hashes(), Arbitraries.integers().between(1, 100), Arbitraries.longs().between(0, Long.MAX_VALUE),
                addresses().list().uniqueElements().ofMaxSize(3))
            .as(Action.SettleJob::new),
        hashes().map(Action.FailJob::new),
        entry.list().ofMinSize(1).ofMaxSize(4).uniqueElements(Action.CommitReceipts.Entry::receipt).map(Action.CommitReceipts::new),
        Combinators.combine(hashes(), positive(), cids().optional()).as(Action.Contest::new),
        Combinators.combine(hashes(), Arbitraries.of(true, false)).as(Action.Resolve::new),
        Combinators.combine(hashes(), positive(), hashes(), steps()).as(Action.Challenge::new),
        Combinators.combine(hashes(), hashes()).as(Action.Attest::new),
        Combinators.combine(hashes(), hashes(), hashes()).as(Action.Bisect::new),
        Combinators.combine(hashes(), Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(64))
            .as(Action.ProveStep::new),
        Combinators.combine(hashes(), cids()).as(Action.ProveStepByBlob::new),
        hashes().map(Action.Timeout::new),
        hashes().map(Action.Finalize::new),
        Combinators.combine(hashes(), hashes()).as(Action.Reveal::new),
        Combinators.combine(cids(), Arbitraries.integers().between(1, 5), Arbitraries.integers().between(0, 1_000_000),
                hashes().optional())
            .as((m, inf, ppm, audit) -> new Action.OpenJob(m, java.util.Optional.empty(), inf, 10, ppm, audit)),
        positive().map(Action.Faucet::new));
  }

  @Provide
  Arbitrary<Transaction> transactions() {
    return Combinators.combine(actions(), Arbitraries.longs().between(0, Long.MAX_VALUE), Arbitraries.longs().between(0, Long.MAX_VALUE))
        .as((a, nonce, fee) -> new Transaction(Fixtures.CHAIN, SIGNER.publicKey(), nonce, fee, a));
  }

  /** Flips one random bit at a time; each altered copy must fail {@code check}. */
  private static void alteredCopiesFail(byte[] bytes, long seed, int copies, Check check) {
    Random r = new Random(seed);
    for (int i = 0; i < copies; i++) {
      byte[] m = bytes.clone();
      int at = r.nextInt(m.length);
      m[at] ^= (byte) (1 << r.nextInt(8));
      try {
        check.run(m);
        fail("bytes altered at offset " + at + " of " + m.length + " were accepted");
      } catch (DecodingException | VerificationException expected) {
        // refused, as it must be
      }
    }
  }

  interface Check {
    void run(byte[] bytes) throws VerificationException;
  }

  @Property(tries = 60)
  void signedTransactionsRoundTripAndAlteredCopiesFail(@ForAll("transactions") Transaction tx, @ForAll long seed)
      throws VerificationException {
    SignedTransaction s = tx.sign(SIGNER);
    byte[] bytes = s.encode();
    SignedTransaction back = SignedTransaction.decode(bytes);
    assertEquals(s, back);
    assertEquals(tx, back.tx());
    assertArrayEquals(bytes, back.encode());
    assertEquals(s.id(), back.id());
    back.verify();
    alteredCopiesFail(bytes, seed, 6, m -> SignedTransaction.decode(m).verify());
  }

  @Property(tries = 200)
  void actionsRoundTripThroughTheirEncoding(@ForAll("actions") Action a) {
    assertEquals(a, Action.fromCbor(Cbor.decodeMap(Cbor.encode(a.toCbor()))));
  }

  @Property(tries = 40)
  void headersRoundTripAndAlteredCopiesFail(@ForAll @Size(3) List<@net.jqwik.api.constraints.LongRange(min = 0, max = Long.MAX_VALUE) Long> numbers,
      @ForAll long seed) throws VerificationException {
    BlockHeader h = BlockHeader.sign(Fixtures.CHAIN, numbers.get(0), Hash.of(new byte[] {1}), Hash.of(new byte[] {2}),
        Hash.of(new byte[] {3}), Hash.of(new byte[] {4}), numbers.get(1), (int) (numbers.get(2) % 1000), 3, Fixtures.SEQUENCER);
    BlockHeader back = BlockHeader.decode(h.encode());
    assertEquals(h, back);
    assertEquals(h.hash(), back.hash());
    back.verifySignature(Fixtures.SEQUENCER.publicKey());
    alteredCopiesFail(h.encode(), seed, 8, m -> BlockHeader.decode(m).verifySignature(Fixtures.SEQUENCER.publicKey()));
  }

  @Property(tries = 15)
  void blocksRoundTripAndAlteredCopiesFail(@ForAll("txLists") List<Transaction> txs, @ForAll long seed)
      throws VerificationException {
    List<SignedTransaction> signed = txs.stream().map(t -> t.sign(SIGNER)).toList();
    Block block = new Block(BlockHeader.sign(Fixtures.CHAIN, 5, Hash.of(new byte[0]), Block.transactionsRoot(signed),
        MerkleTree.ofLeaves(new Block(dummyHeader(signed.size()), signed).receiptLeaves()).root(),
        Hash.of(new byte[] {9}), 7, signed.size(),
        new Block(dummyHeader(signed.size()), signed).receiptLeaves().size(), Fixtures.SEQUENCER), signed);
    byte[] bytes = block.encode();
    Block back = Block.decode(bytes);
    assertEquals(block, back);
    back.verify(Fixtures.SEQUENCER.publicKey());
    alteredCopiesFail(bytes, seed, 6, m -> {
      Block b = Block.decode(m);
      b.verify(Fixtures.SEQUENCER.publicKey());
      for (SignedTransaction t : b.transactions()) {
        t.verify();
      }
    });
  }

  private static BlockHeader dummyHeader(int txCount) {
    return BlockHeader.sign(Fixtures.CHAIN, 0, Hash.of(new byte[0]), Hash.of(new byte[0]), Hash.of(new byte[0]),
        Hash.of(new byte[0]), 0, txCount, 0, Fixtures.SEQUENCER);
  }

  @Property(tries = 40)
  void receiptProofsRoundTripAndAlteredCopiesFail(@ForAll("entryLists") List<Action.CommitReceipts.Entry> entries,
      @ForAll long seed) throws VerificationException {
    List<byte[]> leaves = entries.stream().map(Action.CommitReceipts.Entry::leaf).toList();
    int i = (int) Math.floorMod(seed, (long) entries.size());
    BlockHeader h = BlockHeader.sign(Fixtures.CHAIN, 3, Hash.of(new byte[0]), Hash.of(new byte[0]),
        MerkleTree.ofLeaves(leaves).root(), Hash.of(new byte[0]), 0, 0, leaves.size(), Fixtures.SEQUENCER);
    ReceiptProof p = new ReceiptProof(h, entries.get(i), MerkleTree.ofLeaves(leaves).prove(i));
    p.verify(Fixtures.SEQUENCER.publicKey());
    ReceiptProof back = ReceiptProof.decode(p.encode());
    assertEquals(p, back);
    alteredCopiesFail(p.encode(), seed, 8, m -> ReceiptProof.decode(m).verify(Fixtures.SEQUENCER.publicKey()));
  }

  @Provide
  Arbitrary<List<Action.CommitReceipts.Entry>> entryLists() {
    return Combinators.combine(hashes(), cids()).as(Action.CommitReceipts.Entry::new).list().ofMinSize(1).ofMaxSize(20);
  }

  @Provide
  Arbitrary<List<Transaction>> txLists() {
    return transactions().list().ofMaxSize(3);
  }

  @Property(tries = 100)
  void stateRecordsRoundTrip(@ForAll("records") StateRecord r) {
    byte[] bytes = r.encode();
    assertEquals(r, StateRecord.decode(bytes));
  }

  @Provide
  Arbitrary<StateRecord> records() {
    Arbitrary<Long> n = Arbitraries.longs().between(0, Long.MAX_VALUE);
    return Arbitraries.oneOf(
        Combinators.combine(n, n).as(StateRecord.Account::new),
        Combinators.combine(n, n, n).as(StateRecord.Stake::new),
        Combinators.combine(n, n).as((a, b) -> new StateRecord.Supply(Math.max(a, b), Math.min(a, b))),
        Combinators.combine(cids(), addresses(), n, n).as(StateRecord.Model::new),
        Combinators.combine(cids(), hashes(), addresses(), n).as(StateRecord.Receipt::new),
        Combinators.combine(hashes(), addresses(), cids(), addresses().optional(), Arbitraries.integers().between(1, 50),
                Arbitraries.of(StateRecord.Job.Status.class), n)
            .as((id, a, m, w, inf, st, esc) -> new StateRecord.Job(id, a, m, a, 3, w, inf, esc, st, 1, 2, esc / 2, 3, inf / 2)),
        Combinators.combine(hashes(), addresses(), hashes(), n, cids().optional(), Arbitraries.of(StateRecord.Challenge.Status.class))
            .as((id, c, j, b, e, st) -> new StateRecord.Challenge(id, c, j, b, e, st, 4, b / 3)),
        Combinators.combine(addresses(), Arbitraries.subsetOf(EnumSet.allOf(NodeRole.class)).ofMinSize(1),
                cids().list().uniqueElements().ofMaxSize(3), n)
            .as((o, roles, models, c) -> new StateRecord.Node(o, "https://n.example", roles, models, Math.max(1, c), 1, 2)),
        Arbitraries.just(Fixtures.genesis()),
        Arbitraries.just(Fixtures.genesisBuilder().optimistic(20_000, 3, 7, 5_000).build()),
        Combinators.combine(hashes(), addresses(), traces(), hashes().optional(), addresses().list().uniqueElements().ofMaxSize(3),
                n, Arbitraries.integers().between(0, 3))
            .as((j, w, t, seed, vs, pool, open) -> new StateRecord.Check(j, w, t, 5, seed,
                seed.map(x -> new Sample(!vs.isEmpty(), vs)), vs, pool, open)),
        Combinators.combine(hashes(), addresses(), n, Arbitraries.of(StateRecord.Dispute.Claim.class),
                hashes(), hashes(), Arbitraries.of(StateRecord.Dispute.Phase.class), Arbitraries.integers().between(2, 1_000))
            .as((id, w, bond, claim, a, b, phase, steps) -> new StateRecord.Dispute(id, id, w, Fixtures.BOB.address(), bond, claim, a, b,
                steps, 1, steps, a, b,
                phase == StateRecord.Dispute.Phase.CHALLENGER_BISECT ? java.util.Optional.of(a) : java.util.Optional.empty(),
                phase == StateRecord.Dispute.Phase.CHALLENGER_BISECT ? java.util.Optional.of(b) : java.util.Optional.empty(),
                phase, bond / 2, 3, 4, bond / 3, phase.decided() ? "timeout" : "")),
        addresses().list().uniqueElements().ofMaxSize(4).map(as -> new StateRecord.Verifiers(
            as.stream().sorted().toList())),
        hashes().list().ofMaxSize(4).map(js -> new StateRecord.Sampling(
            js.stream().map(j -> new StateRecord.Sampling.Pending(7, j)).toList())),
        Combinators.combine(n, n, n).as(StateRecord.Exposure::new),
        n.map(StateRecord.Horizon::new),
        Arbitraries.just(Fixtures.genesisBuilder().maxInFlightBps(6_300).build()),
        Combinators.combine(hashes(), addresses(), cids(), Arbitraries.integers().between(0, 1_000_000), hashes().optional())
            .as((id, a, m, ppm, audit) -> new StateRecord.Job(id, a, m, a, 3, java.util.Optional.of(a), 1, 9,
                StateRecord.Job.Status.FINAL, 1, 2, 4, 3, 1, ppm, audit)));
  }

  @Property(tries = 200)
  void randomBytesAreRefusedWithADecodingException(@ForAll @Size(max = 300) byte[] junk) {
    for (Function<byte[], ?> decoder : List.<Function<byte[], ?>>of(SignedTransaction::decode, Block::decode,
        BlockHeader::decode, StateProof::decode, ReceiptProof::decode, Equivocation::decode, StateRecord::decode,
        GenesisConfig::decode)) {
      try {
        decoder.apply(junk);
      } catch (DecodingException expected) {
        // the only acceptable failure
      }
    }
  }

  @Test
  void refusesTruncatedOversizedAndUnknownInput() {
    byte[] tx = new Transaction(Fixtures.CHAIN, SIGNER.publicKey(), 0, 1, new Action.Withdraw()).sign(SIGNER).encode();
    for (int cut = 0; cut < tx.length; cut++) {
      byte[] t = java.util.Arrays.copyOf(tx, cut);
      assertThrows(DecodingException.class, () -> SignedTransaction.decode(t));
    }
    assertThrows(DecodingException.class, () -> SignedTransaction.decode(new byte[SignedTransaction.MAX_BYTES + 1]));
    CborValue.Map body = new Transaction(Fixtures.CHAIN, SIGNER.publicKey(), 0, 1, new Action.Withdraw()).toCbor();
    CborValue.Map.Builder v2 = CborValue.Map.builder();
    body.entries().forEach((k, val) -> v2.put(k, k.equals("v") ? new CborValue.Int(2) : val));
    byte[] future = Cbor.encode(CborValue.Map.builder().put("tx", v2.build()).put("sig", new byte[64]).build());
    DecodingException e = assertThrows(DecodingException.class, () -> SignedTransaction.decode(future));
    assertEquals(true, e.getMessage().contains("version"), e.getMessage());
    CborValue.Map.Builder extra = CborValue.Map.builder();
    body.entries().forEach(extra::put);
    extra.put("memo", "hi");
    byte[] unknown = Cbor.encode(CborValue.Map.builder().put("tx", extra.build()).put("sig", new byte[64]).build());
    assertThrows(DecodingException.class, () -> SignedTransaction.decode(unknown));
  }

  @Test
  void misSignedTransactionFailsVerification() {
    Transaction tx = new Transaction(Fixtures.CHAIN, SIGNER.publicKey(), 0, 1, new Action.Stake(5));
    SignedTransaction forged = SignedTransaction.of(tx, Fixtures.BOB.sign(tx.id().toBytes()));
    assertThrows(VerificationException.class, forged::verify);
    assertThrows(IllegalArgumentException.class, () -> tx.sign(Fixtures.BOB));
  }

  @Test
  void equivocationNeedsTwoDifferentHeadersAtOneHeightByTheSequencer() throws VerificationException {
    BlockHeader a = BlockHeader.sign(Fixtures.CHAIN, 9, Hash.of(new byte[0]), Hash.of(new byte[0]), Hash.of(new byte[0]),
        Hash.of(new byte[] {1}), 0, 0, 0, Fixtures.SEQUENCER);
    BlockHeader b = BlockHeader.sign(Fixtures.CHAIN, 9, Hash.of(new byte[0]), Hash.of(new byte[0]), Hash.of(new byte[0]),
        Hash.of(new byte[] {2}), 0, 0, 0, Fixtures.SEQUENCER);
    BlockHeader c = BlockHeader.sign(Fixtures.CHAIN, 10, Hash.of(new byte[0]), Hash.of(new byte[0]), Hash.of(new byte[0]),
        Hash.of(new byte[] {2}), 0, 0, 0, Fixtures.SEQUENCER);
    BlockHeader byOther = BlockHeader.sign(Fixtures.CHAIN, 9, Hash.of(new byte[0]), Hash.of(new byte[0]), Hash.of(new byte[0]),
        Hash.of(new byte[] {3}), 0, 0, 0, Fixtures.BOB);
    Equivocation e = new Equivocation(a, b);
    e.verify(Fixtures.SEQUENCER.publicKey());
    Equivocation back = Equivocation.decode(e.encode());
    assertEquals(e, back);
    back.verify(Fixtures.SEQUENCER.publicKey());
    assertThrows(VerificationException.class, () -> new Equivocation(a, c).verify(Fixtures.SEQUENCER.publicKey()));
    assertThrows(VerificationException.class, () -> new Equivocation(a, a).verify(Fixtures.SEQUENCER.publicKey()));
    assertThrows(VerificationException.class, () -> new Equivocation(a, byOther).verify(Fixtures.SEQUENCER.publicKey()));
    assertThrows(DecodingException.class, () -> Equivocation.decode(new Equivocation(a, a).encode()));
    assertNotEquals(a.hash(), b.hash());
    alteredCopiesFail(e.encode(), 42, 10, m -> Equivocation.decode(m).verify(Fixtures.SEQUENCER.publicKey()));
  }

  @Test
  void genesisConfigRoundTripsAndRejectsBadParameters() {
    GenesisConfig g = Fixtures.genesis();
    assertEquals(g, GenesisConfig.decode(g.encode()));
    assertThrows(DecodingException.class, () -> Fixtures.genesisBuilder().shares(9_000, 2_000).build());
    assertThrows(DecodingException.class, () -> Fixtures.genesisBuilder().challengeWindowBlocks(11).build());
    assertThrows(DecodingException.class, () -> GenesisConfig.builder("Bad Chain!").build());
    assertThrows(ArithmeticException.class, () -> Fixtures.genesisBuilder().allocate(Fixtures.ALICE.address(), Long.MAX_VALUE));
    GenesisConfig.Builder huge = Fixtures.genesisBuilder();
    List<Address> many = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      many.add(Fixtures.key(50 + i).address());
    }
    huge.allocate(many.get(0), Long.MAX_VALUE / 2).allocate(many.get(1), Long.MAX_VALUE / 2);
    assertThrows(DecodingException.class, huge::build);
  }
}
