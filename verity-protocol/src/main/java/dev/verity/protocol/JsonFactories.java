package dev.verity.protocol;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The JSON factories of Verity's request paths. Jackson lends every parser and generator buffers
 * from a recycler pool; its default keeps them per thread, which gives nothing back when, as in a
 * node, every request runs on a fresh virtual thread: each request then allocated new buffers (tens
 * of kilobytes) for every document it read or wrote. These factories share one bounded pool across
 * threads instead.
 */
public final class JsonFactories {
  private JsonFactories() {}

  /** A factory builder already set to the shared bounded buffer pool; add constraints as needed. */
  public static JsonFactoryBuilder builder() {
    return (JsonFactoryBuilder) JsonFactory.builder().recyclerPool(JsonRecyclerPools.sharedBoundedPool());
  }

  /** A factory with Jackson's default constraints and the shared bounded buffer pool. */
  public static JsonFactory factory() {
    return builder().build();
  }

  /** An object mapper over {@link #factory()}. */
  public static ObjectMapper mapper() {
    return new ObjectMapper(factory());
  }
}
