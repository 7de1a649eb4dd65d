package siameseim.host;

import java.util.function.BooleanSupplier;

/**
 * The one switch of the SIMD kernels (the augmentation's, the BatchNorm moments', the
 * collective's float sums): a family runs on the incubating Vector API when the JVM has
 * {@code --add-modules jdk.incubator.vector} and the family's probe works, and as plain Java loops
 * otherwise or with {@code -Dsiameseim.<family>.no-simd=true}. Both paths give the same bits
 * (docs/dataset-format.md, "SIMD kernels").
 */
public final class Simd {
    private Simd() {}

    /**
     * @param family {@code augment}, {@code moments} or {@code collective}
     * @param probe a lambda calling the family's Vector API class (not a method reference: a
     *     missing incubator module must fail inside this call, where it is caught)
     */
    public static boolean enabled(String family, BooleanSupplier probe) {
        if (Boolean.getBoolean("siameseim." + family + ".no-simd")) {
            return false;
        }
        try {
            return probe.getAsBoolean();
        } catch (Throwable t) {
            return false;
        }
    }
}
