package dev.verity.zk;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Random small networks over every layer type, with shifts chosen so that no activation can leave
 * the int16 range for any int16 input.
 */
final class RandomNetworks {
  private RandomNetworks() {}

  static QuantizedModel model(long seed) {
    Random rnd = new Random(seed);
    Shape in = new Shape(1 + rnd.nextInt(2), 2 * (1 + rnd.nextInt(3)), 2 * (1 + rnd.nextInt(3)));
    var b = QuantizedModel.builder(TestModels.cid("random-" + seed), in);
    List<Shape> shapes = new ArrayList<>();
    List<Boolean> committed = new ArrayList<>();
    shapes.add(in);
    committed.add(true);
    int cur = 0;
    int steps = 1 + rnd.nextInt(4);
    for (int s = 0; s < steps; s++) {
      Shape sh = shapes.get(cur);
      int choice = rnd.nextInt(5);
      int next;
      if (choice == 0 && sh.height() > 1) {
        int k = 1 + rnd.nextInt(Math.min(3, Math.min(sh.height(), sh.width())));
        int pad = rnd.nextInt(k);
        int co = 1 + rnd.nextInt(3);
        int fan = sh.channels() * k * k;
        next = b.conv2d(cur, co, k, 1, pad, TestModels.weights(rnd, co * fan, 7), TestModels.bias(rnd, co, 50));
        next = b.requant(next, shiftFor(fan, 7), rnd.nextBoolean());
      } else if (choice == 1 && committed.get(cur) && canPool(sh)) {
        next = b.maxPool(cur);
      } else if (choice == 2 && canPool(sh)) {
        next = b.avgPool(cur);
      } else if (choice == 3 && cur > 0) {
        // a residual connection to an earlier tensor of the same shape, or to itself
        int other = cur;
        for (int t = 0; t < cur; t++) {
          if (sh.equals(shapes.get(t)) && rnd.nextBoolean()) {
            other = t;
          }
        }
        next = b.requant(b.add(cur, other), 1, false);
      } else {
        int outs = 1 + rnd.nextInt(5);
        int fan = sh.size();
        next = b.dense(cur, outs, TestModels.weights(rnd, outs * fan, 7), TestModels.bias(rnd, outs, 50));
        next = b.requant(next, shiftFor(fan, 7), rnd.nextBoolean());
      }
      // record every tensor the builder made (a layer may add two)
      while (shapes.size() <= next) {
        shapes.add(null);
        committed.add(false);
      }
      shapes.set(next, b.shapeOf(next));
      committed.set(next, true);
      cur = next;
    }
    // the output: a dense layer, optionally rescaled, or left as the raw accumulator
    Shape sh = shapes.get(cur);
    int outs = 1 + rnd.nextInt(4);
    int d = b.dense(cur, outs, TestModels.weights(rnd, outs * sh.size(), 7), TestModels.bias(rnd, outs, 50));
    if (rnd.nextInt(3) > 0) {
      b.requant(d, shiftFor(sh.size(), 7), rnd.nextBoolean());
    }
    return b.build();
  }

  /** 2x2 pooling needs even sizes and must leave at least 8 padded values. */
  static boolean canPool(Shape sh) {
    if (sh.height() % 2 != 0 || sh.width() % 2 != 0) {
      return false;
    }
    return new Shape(sh.channels(), sh.height() / 2, sh.width() / 2).logChannels() == sh.logChannels();
  }

  /** A shift that maps fan * weight * 2^15 back below 2^14. */
  static int shiftFor(int fan, int weight) {
    int bits = 64 - Long.numberOfLeadingZeros((long) fan * weight + 1);
    return Math.min(Architecture.MAX_SHIFT, bits + 1);
  }

  static long[] input(QuantizedModel m, long seed) {
    Random rnd = new Random(seed);
    long[] x = new long[m.architecture().inputShape().size()];
    for (int i = 0; i < x.length; i++) {
      x[i] = rnd.nextInt(1 << 16) - (1 << 15);
    }
    return x;
  }
}
