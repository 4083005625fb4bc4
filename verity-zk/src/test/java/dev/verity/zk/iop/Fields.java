package dev.verity.zk.iop;

import dev.verity.zk.field.Ext;
import dev.verity.zk.field.Goldilocks;
import java.util.Random;

/** Random field data for tests. */
final class Fields {
  private Fields() {}

  static long base(Random r) {
    return Goldilocks.fromUnsigned(r.nextLong());
  }

  static Ext ext(Random r) {
    return new Ext(base(r), base(r));
  }

  static Ext[] point(Random r, int n) {
    Ext[] p = new Ext[n];
    for (int i = 0; i < n; i++) {
      p[i] = ext(r);
    }
    return p;
  }

  static long[] baseVector(Random r, int n) {
    long[] v = new long[n];
    for (int i = 0; i < n; i++) {
      v[i] = base(r);
    }
    return v;
  }

  static long[] extVector(Random r, int n) {
    long[] v = new long[2 * n];
    for (int i = 0; i < 2 * n; i++) {
      v[i] = base(r);
    }
    return v;
  }

  static Ext at(long[] interleaved, int i) {
    return new Ext(interleaved[2 * i], interleaved[2 * i + 1]);
  }
}
