package dev.verity.zk.iop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.verity.zk.field.Ext;
import org.junit.jupiter.api.Test;

class TranscriptTest {
  @Test
  void sameMessagesGiveSameChallenges() {
    Transcript a = new Transcript("p");
    Transcript b = new Transcript("p");
    a.absorb(new byte[] {1, 2, 3});
    b.absorb(new byte[] {1, 2, 3});
    assertEquals(a.challengeExt("x"), b.challengeExt("x"));
    assertEquals(a.challengeExt("x"), b.challengeExt("x"));
  }

  @Test
  void anyDifferenceChangesTheChallenge() {
    Ext base = challengeAfter("p", new byte[] {1, 2, 3}, "x");
    assertNotEquals(base, challengeAfter("q", new byte[] {1, 2, 3}, "x"));
    assertNotEquals(base, challengeAfter("p", new byte[] {1, 2, 4}, "x"));
    assertNotEquals(base, challengeAfter("p", new byte[] {1, 2, 3}, "y"));
    // length prefixes separate (12)(3) from (1)(23)
    Transcript a = new Transcript("p");
    a.absorb(new byte[] {1, 2});
    a.absorb(new byte[] {3});
    Transcript b = new Transcript("p");
    b.absorb(new byte[] {1});
    b.absorb(new byte[] {2, 3});
    assertNotEquals(a.challengeExt("x"), b.challengeExt("x"));
  }

  @Test
  void successiveChallengesDiffer() {
    Transcript t = new Transcript("p");
    assertNotEquals(t.challengeExt("x"), t.challengeExt("x"));
    int[] idx = t.challengeIndices("q", 1000, 1024);
    for (int i : idx) {
      org.junit.jupiter.api.Assertions.assertTrue(i >= 0 && i < 1024);
    }
  }

  private static Ext challengeAfter(String protocol, byte[] data, String label) {
    Transcript t = new Transcript(protocol);
    t.absorb(data);
    return t.challengeExt(label);
  }
}
