package siameseim.config;

/** Which encoder output becomes an image's feature vector. */
public enum FeaturePool {
    /** Mean of the patch tokens (CLS excluded): linear probe, fine-tune, kNN default (spec 5.2, 5.3). */
    MEAN_PATCH,
    /** The CLS token of the last block: few-shot logistic regression (spec 5.4). */
    CLS
}
