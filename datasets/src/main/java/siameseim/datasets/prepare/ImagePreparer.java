package siameseim.datasets.prepare;

import siameseim.datasets.augment.CropBox;
import siameseim.datasets.augment.Resampler;
import siameseim.datasets.decode.BadImageException;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.datasets.decode.ImageHeader;
import siameseim.datasets.image.RgbImage;
import siameseim.datasets.shards.ImageRecord;

/**
 * One source file to one shard row. Every file is decoded (so a corrupt file is found now, not
 * in the middle of training). RGB JPEGs are kept byte for byte unless a resize is asked for;
 * everything else (CMYK or grey JPEG, PNG, GIF, BMP, ... whatever its file name says) is
 * converted to an RGB JPEG.
 */
public final class ImagePreparer {
    private final PrepareOptions options;
    private final ImageDecoder decoder;

    public ImagePreparer(PrepareOptions options) {
        this.options = options;
        this.decoder = ImageDecoder.named(options.decoder());
    }

    public ImageRecord prepare(String key, int label, String wnid, byte[] bytes) throws BadImageException {
        ImageDecoder.Decoded d = decoder.decode(bytes, options.maxPixels());
        RgbImage img = d.image();
        int components = d.format().equals("jpeg") ? ImageHeader.jpegComponents(bytes) : -1;
        boolean rgbJpeg = components == 3;
        String source = d.format() + (components == 4 ? "/cmyk" : components == 1 ? "/grey" : "");
        int target = options.resizeShorterSide();
        boolean resize = target > 0 && Math.min(img.width(), img.height()) > target;
        if (resize) {
            int w = img.width();
            int h = img.height();
            int nw = w <= h ? target : (int) ((long) target * w / h);
            int nh = w <= h ? (int) ((long) target * h / w) : target;
            img = Resampler.resize(img, new CropBox(0, 0, h, w), nw, nh, Resampler.Filter.BICUBIC);
        }
        byte[] out = (rgbJpeg && !resize) ? bytes : decoder.encodeJpeg(img, options.jpegQuality());
        return new ImageRecord(key, label, wnid, out, img.width(), img.height(), source);
    }
}
