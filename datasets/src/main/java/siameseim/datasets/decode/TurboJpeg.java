package siameseim.datasets.decode;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import siameseim.datasets.image.RgbImage;

/**
 * JPEG decoding through the host's libturbojpeg (Debian: libturbojpeg0), through JNA, when it is
 * installed: the OpenCV build on the classpath carries libjpeg-turbo without its SIMD code (its
 * {@code jsimd_can_*} checks return 0), which decoded a 500 x 375 photo at about half the speed
 * of the system library that PIL uses. The system library is the same libjpeg-turbo with the same
 * defaults as OpenCV's reader (accurate integer IDCT, fancy upsampling), and its SIMD paths are
 * exact, so the pixels are the same ({@code TurboJpegTest} compares them with OpenCV's).
 *
 * <p>Only what OpenCV would decode the same way comes here: YCbCr and greyscale JPEGs without an
 * Exif segment (OpenCV applies the Exif orientation; CMYK, YCCK and RGB-coded files have their own
 * conversions there). A file the library reports any problem with, even a warning, goes to OpenCV,
 * which decides as before. {@code -Dsiameseim.decode.turbojpeg=false} turns this path off.
 */
final class TurboJpeg {
    private static final int TJPF_BGR = 1;
    private static final int TJCS_YCBCR = 1;
    private static final int TJCS_GRAY = 2;

    /** The TurboJPEG 2.x API calls used here. */
    interface Lib extends Library {
        Pointer tjInitDecompress();

        int tjDecompressHeader3(Pointer handle, byte[] jpeg, NativeLong size, int[] width, int[] height,
                int[] subsampling, int[] colorspace);

        int tjDecompress2(Pointer handle, byte[] jpeg, NativeLong size, ByteBuffer dst, int width, int pitch,
                int height, int pixelFormat, int flags);
    }

    private static final Lib LIB = load();
    /** One decompressor per thread (a handle is not thread-safe); loader threads live as long as the JVM. */
    private static final ThreadLocal<Pointer> HANDLE = ThreadLocal.withInitial(() -> LIB.tjInitDecompress());
    private static final ThreadLocal<ByteBuffer[]> PIXELS = ThreadLocal.withInitial(() -> new ByteBuffer[1]);

    private TurboJpeg() {}

    private static Lib load() {
        if ("false".equals(System.getProperty("siameseim.decode.turbojpeg"))) {
            return null;
        }
        try {
            return Native.load("turbojpeg", Lib.class);
        } catch (Throwable t) {
            return null; // not installed: OpenCV decodes everything
        }
    }

    /** Whether the system library is in use. */
    static boolean available() {
        return LIB != null;
    }

    /**
     * The planar image of a JPEG whose header {@code h} says it is one, or null when it is not for this
     * path (Exif, an unusual colour space, any complaint of the library): then OpenCV decodes it.
     */
    static RgbImage decode(byte[] bytes, ImageHeader h) {
        if (LIB == null || h.exif()) {
            return null;
        }
        Pointer handle = HANDLE.get();
        if (handle == null) {
            return null;
        }
        NativeLong size = new NativeLong(bytes.length);
        int[] w = new int[1];
        int[] ht = new int[1];
        int[] sub = new int[1];
        int[] cs = new int[1];
        if (LIB.tjDecompressHeader3(handle, bytes, size, w, ht, sub, cs) != 0
                || (cs[0] != TJCS_YCBCR && cs[0] != TJCS_GRAY) || w[0] <= 0 || ht[0] <= 0) {
            return null;
        }
        int n = 3 * w[0] * ht[0];
        ByteBuffer[] kept = PIXELS.get();
        if (kept[0] == null || kept[0].capacity() < n) {
            kept[0] = ByteBuffer.allocateDirect(n);
        }
        ByteBuffer px = kept[0];
        if (LIB.tjDecompress2(handle, bytes, size, px, w[0], 0, ht[0], TJPF_BGR, 0) != 0) {
            return null;
        }
        Mat bgr = new Mat(ht[0], w[0], CvType.CV_8UC3, px);
        try {
            return OpenCvDecoder.fromBgr(bgr);
        } finally {
            bgr.release();
        }
    }
}
