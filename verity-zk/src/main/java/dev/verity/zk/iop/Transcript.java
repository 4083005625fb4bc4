package dev.verity.zk.iop;

import dev.verity.core.Hash;
import dev.verity.zk.field.Ext;
import dev.verity.zk.field.Goldilocks;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * The Fiat-Shamir transcript: a SHA-256 hash chain over everything the prover has sent, from which
 * every verifier challenge is derived. Prover and verifier drive identical transcripts; a change to
 * any absorbed byte changes every later challenge.
 *
 * <p>Construction: the state starts as SHA-256 of a domain tag and the protocol name. Absorbed data
 * is streamed into a running digest seeded with the state. Drawing a challenge finishes that digest
 * over a challenge marker and the challenge's label, which becomes the new state; the challenge's
 * bytes are then SHA-256(state, 0x02, counter) blocks, so challenge output never equals a state.
 * Field elements are sampled from 8-byte little-endian words by rejection (a word at or above p, a
 * 2^-32 event, is skipped), so they are exactly uniform in the random-oracle model.
 */
public final class Transcript {
  private static final String DOMAIN = "verity/zk/transcript/v1";
  private static final byte ABSORB = 0x01;
  private static final byte CHALLENGE = 0x02;
  private static final byte SQUEEZE = 0x03;

  private final MessageDigest digest = Hash.newDigest();
  private byte[] state;
  private final byte[] word = new byte[8];

  public Transcript(String protocol) {
    byte[] p = protocol.getBytes(StandardCharsets.UTF_8);
    state = Hash.tagged(DOMAIN, p).toBytes();
    digest.update(state);
  }

  /** Absorbs a label, for domain separation between protocol phases. */
  public void absorbLabel(String label) {
    byte[] l = label.getBytes(StandardCharsets.UTF_8);
    digest.update(ABSORB);
    absorbLength(l.length);
    digest.update(l);
  }

  /** Absorbs bytes, length-prefixed. */
  public void absorb(byte[] data) {
    absorbLength(data.length);
    digest.update(data);
  }

  /** Absorbs bytes without a length prefix; for fixed-size messages whose size both sides know. */
  public void absorbFixed(byte[] data, int offset, int length) {
    digest.update(data, offset, length);
  }

  public void absorbLong(long x) {
    for (int i = 0; i < 8; i++) {
      word[i] = (byte) (x >>> (8 * i));
    }
    digest.update(word);
  }

  private void absorbLength(int n) {
    absorbLong(n);
  }

  private void ratchet(String label) {
    digest.update(CHALLENGE);
    byte[] l = label.getBytes(StandardCharsets.UTF_8);
    digest.update(l);
    state = digest.digest();
    digest.update(state);
  }

  /** A stream of challenge bytes tied to the current state. */
  private final class Squeezer {
    private final MessageDigest out = Hash.newDigest();
    private byte[] block = new byte[0];
    private int pos;
    private long counter;

    long nextWord() {
      if (pos + 8 > block.length) {
        out.update(state);
        out.update(SQUEEZE);
        for (int i = 0; i < 8; i++) {
          out.update((byte) (counter >>> (8 * i)));
        }
        counter++;
        block = out.digest();
        pos = 0;
      }
      long x = 0;
      for (int i = 7; i >= 0; i--) {
        x = (x << 8) | (block[pos + i] & 0xff);
      }
      pos += 8;
      return x;
    }

    long nextElement() {
      while (true) {
        long x = nextWord();
        if (Goldilocks.isCanonical(x)) {
          return x;
        }
      }
    }
  }

  /** A uniform extension-field challenge. */
  public Ext challengeExt(String label) {
    ratchet(label);
    Squeezer s = new Squeezer();
    return new Ext(s.nextElement(), s.nextElement());
  }

  /** Several uniform extension-field challenges under one label. */
  public Ext[] challengeExts(String label, int count) {
    ratchet(label);
    Squeezer s = new Squeezer();
    Ext[] out = new Ext[count];
    for (int i = 0; i < count; i++) {
      out[i] = new Ext(s.nextElement(), s.nextElement());
    }
    return out;
  }

  /** {@code count} uniform indices in [0, bound), bound a power of two; repeats are possible. */
  public int[] challengeIndices(String label, int count, int bound) {
    if (bound <= 0 || Integer.bitCount(bound) != 1) {
      throw new IllegalArgumentException("index bound must be a power of two, got " + bound);
    }
    ratchet(label);
    Squeezer s = new Squeezer();
    int[] out = new int[count];
    for (int i = 0; i < count; i++) {
      out[i] = (int) (s.nextWord() & (bound - 1));
    }
    return out;
  }
}
