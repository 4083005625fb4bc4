package dev.verity.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.crypto.Address;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class StateTreeTest {

  private static StateKey key(int i) {
    byte[] a = new byte[Address.LENGTH];
    a[0] = (byte) (i >>> 24);
    a[1] = (byte) (i >>> 16);
    a[2] = (byte) (i >>> 8);
    a[3] = (byte) i;
    return StateKey.account(Address.fromBytes(a));
  }

  private static StateRecord value(long v) {
    return new StateRecord.Account(v, v % 7);
  }

  @Provide
  Arbitrary<List<Map<Integer, Long>>> batches() {
    Arbitrary<Map<Integer, Long>> batch =
        Arbitraries.maps(Arbitraries.integers().between(0, 300), Arbitraries.longs().between(0, 1_000_000))
            .ofMinSize(0).ofMaxSize(40);
    return batch.list().ofMinSize(1).ofMaxSize(8);
  }

  private static StateTree applyAll(StateTree t, List<Map<Integer, Long>> batches) {
    for (Map<Integer, Long> b : batches) {
      Map<StateKey, StateRecord> u = new HashMap<>();
      b.forEach((k, v) -> u.put(key(k), value(v)));
      t = t.with(u);
    }
    return t;
  }

  private static Map<Integer, Long> last(List<Map<Integer, Long>> batches) {
    Map<Integer, Long> m = new LinkedHashMap<>();
    batches.forEach(m::putAll);
    return m;
  }

  private static StateTree rebuilt(Map<Integer, Long> finalValues) {
    List<StateTree.Leaf> leaves = new ArrayList<>();
    java.security.MessageDigest d = Hash.newDigest();
    finalValues.forEach((k, v) -> leaves.add(new StateTree.Leaf(key(k).path().toBytes(), value(v), value(v).encode(), d)));
    leaves.sort((a, b) -> java.util.Arrays.compareUnsigned(a.path, b.path));
    return StateTree.ofSorted(leaves);
  }

  @Property(tries = 150)
  void incrementalUpdatesGiveTheRootOfAFullRebuild(@ForAll("batches") List<Map<Integer, Long>> batches) {
    StateTree incremental = applyAll(StateTree.empty(), batches);
    Map<Integer, Long> finalValues = last(batches);
    assertEquals(rebuilt(finalValues).rootHash(), incremental.rootHash());
    assertEquals(finalValues.size(), incremental.size());
  }

  @Property(tries = 100)
  void rootDoesNotDependOnUpdateOrderOrBatching(@ForAll("batches") List<Map<Integer, Long>> batches, @ForAll long seed) {
    Map<Integer, Long> finalValues = last(batches);
    List<Map.Entry<Integer, Long>> entries = new ArrayList<>(finalValues.entrySet());
    Collections.shuffle(entries, new Random(seed));
    StateTree oneByOne = StateTree.empty();
    for (Map.Entry<Integer, Long> e : entries) {
      oneByOne = oneByOne.with(Map.of(key(e.getKey()), value(e.getValue())));
    }
    assertEquals(applyAll(StateTree.empty(), batches).rootHash(), oneByOne.rootHash());
  }

  @Property(tries = 100)
  void everyKeyProvesPresenceOrAbsenceAgainstTheRoot(
      @ForAll("batches") List<Map<Integer, Long>> batches, @ForAll @IntRange(min = 0, max = 400) int probe)
      throws VerificationException {
    StateTree t = applyAll(StateTree.empty(), batches);
    Map<Integer, Long> finalValues = last(batches);
    StateProof p = t.prove(key(probe));
    p.verify(t.rootHash());
    Optional<StateRecord> expected = Optional.ofNullable(finalValues.get(probe)).map(StateTreeTest::value);
    assertEquals(expected, p.value());
    assertEquals(p, StateProof.decode(p.encode()));
  }

  @Property(tries = 100)
  void proofsFailAgainstOtherRootsAndWhenAltered(
      @ForAll("batches") List<Map<Integer, Long>> batches, @ForAll @IntRange(min = 0, max = 400) int probe,
      @ForAll long seed) {
    StateTree t = applyAll(StateTree.empty(), batches);
    StateTree changed = t.with(Map.of(key(probe), value(seed & 0xffff)));
    StateProof p = t.prove(key(probe));
    if (!changed.rootHash().equals(t.rootHash())) {
      assertThrows(VerificationException.class, () -> p.verify(changed.rootHash()));
    }
    byte[] bytes = p.encode();
    Random r = new Random(seed);
    for (int i = 0; i < 20; i++) {
      byte[] m = bytes.clone();
      int at = r.nextInt(m.length);
      m[at] ^= (byte) (1 << r.nextInt(8));
      StateProof q;
      try {
        q = StateProof.decode(m);
      } catch (DecodingException expected) {
        continue; // altered bytes that do not decode are rejected as well
      }
      try {
        q.verify(t.rootHash());
      } catch (VerificationException expected) {
        continue;
      }
      // An altered proof that still verifies must state something true (typically: another key,
      // which really is absent).
      assertNotEquals(p, q);
      assertEquals(Optional.ofNullable(t.get(q.key().path().toBytes())), q.value(),
          "a proof altered at byte " + at + " proves a false statement");
    }
  }

  @Test
  void presentKeyCannotBeProvedAbsent() throws VerificationException {
    StateTree built = StateTree.empty();
    for (int i = 0; i < 50; i++) {
      built = built.with(Map.of(key(i), value(i)));
    }
    StateTree t = built;
    StateProof member = t.prove(key(7));
    member.verify(t.rootHash());
    StateProof emptyClaim = StateProof.nonMembership(key(7), member.siblings(), null, null);
    assertThrows(VerificationException.class, () -> emptyClaim.verify(t.rootHash()));
    StateProof neighbourClaim = StateProof.nonMembership(key(7), member.siblings(), key(8).path(), Hash.of(new byte[1]));
    assertThrows(VerificationException.class, () -> neighbourClaim.verify(t.rootHash()));
    StateProof shortened = StateProof.membership(key(7), value(7).encode(), member.siblings().subList(1, member.siblings().size()));
    assertThrows(VerificationException.class, () -> shortened.verify(t.rootHash()));
    StateProof otherValue = StateProof.membership(key(7), value(8).encode(), member.siblings());
    assertThrows(VerificationException.class, () -> otherValue.verify(t.rootHash()));
  }

  @Test
  void emptyTreeHasZeroRootAndProvesAbsence() throws VerificationException {
    StateTree t = StateTree.empty();
    assertEquals(Hash.wrap(new byte[32]), t.rootHash());
    StateProof p = t.prove(key(1));
    p.verify(t.rootHash());
    assertFalse(p.value().isPresent());
    assertTrue(p.siblings().isEmpty());
  }

  @Test
  void updatesLeaveEarlierTreesUnchanged() {
    StateTree a = StateTree.empty().with(Map.of(key(1), value(1)));
    StateTree b = a.with(Map.of(key(1), value(2), key(2), value(3)));
    assertEquals(value(1), a.get(key(1).path().toBytes()));
    assertEquals(value(2), b.get(key(1).path().toBytes()));
    assertNotEquals(a.rootHash(), b.rootHash());
    assertEquals(1, a.size());
  }

  @Test
  void rejectsAnEntryUnderAKeyOfAnotherKind() {
    assertThrows(IllegalArgumentException.class,
        () -> StateTree.empty().with(Map.of(key(1), new StateRecord.Stake(1, 0, 0))));
  }

  @Test
  void proofDecoderRejectsHostileInput() {
    assertThrows(DecodingException.class, () -> StateProof.decode(new byte[0]));
    assertThrows(DecodingException.class, () -> StateProof.decode(new byte[] {(byte) 0xa1}));
    List<Hash> tooMany = Collections.nCopies(257, Hash.of(new byte[0]));
    assertThrows(DecodingException.class, () -> StateProof.nonMembership(key(1), tooMany, null, null));
  }
}
