/// The data types of the tree learners' hot paths, decided in one place.
///
/// - Bins are `UInt8`: at most 255 value bins per feature plus one bin for missing (and, for categorical
///   features, rare or unseen levels), so a binned column costs one byte a row.
/// - Gradients and hessians are `Float`: they are recomputed every round and only ever summed.
/// - Histogram sums are `Double`: a leaf sums up to millions of `Float`s, and the sibling histogram is
///   derived by subtraction (parent − smaller child), which in `Float` would lose the small differences
///   that decide between two splits.
public typealias Bin = UInt8
public typealias GradientValue = Float
public typealias HistogramSum = Double

/// The most value bins a feature may have; one more bin is reserved for missing values.
public let maximumValueBins = 255
