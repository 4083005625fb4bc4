package dev.verity.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DatasetTest {

  @Test
  void loadsTheBundledBreastCancerData() {
    Dataset d = Dataset.breastCancer();
    assertEquals(569, d.size());
    assertEquals(30, d.width());
    int benign = 0;
    for (int y : d.labels()) {
      benign += y;
    }
    assertEquals(357, benign); // 212 malignant, 357 benign, as the data set documents
    assertEquals(17.99, d.features()[0][0]);
  }

  @Test
  void loadsTheBundledDigitsWithPixelsFrom0To16() {
    Dataset d = Dataset.digits();
    assertEquals(1797, d.size());
    assertEquals(64, d.width());
    double max = 0;
    for (double[] row : d.features()) {
      for (double v : row) {
        assertTrue(v >= 0 && v <= 16 && v == Math.rint(v), "pixel " + v);
        max = Math.max(max, v);
      }
    }
    assertEquals(16, max);
  }

  @Test
  void splitIsDeterministicDisjointAndComplete() {
    Dataset d = Dataset.breastCancer();
    Dataset.Split a = d.split(5, 0.8);
    Dataset.Split b = d.split(5, 0.8);
    assertEquals(455, a.train().size());
    assertEquals(114, a.test().size());
    assertArrayEquals(a.test().labels(), b.test().labels());
    for (int i = 0; i < a.test().size(); i++) {
      assertArrayEquals(a.test().features()[i], b.test().features()[i]);
    }
    Set<double[]> seen = new HashSet<>(); // identity: rows are shared, not copied
    for (double[] row : a.train().features()) {
      assertTrue(seen.add(row));
    }
    for (double[] row : a.test().features()) {
      assertTrue(seen.add(row), "a held-out row is also in the training split");
    }
    assertEquals(569, seen.size());
    Dataset.Split other = d.split(6, 0.8);
    assertTrue(other.test().features()[0] != a.test().features()[0]
        || other.test().features()[1] != a.test().features()[1], "seed has no effect");
  }
}
