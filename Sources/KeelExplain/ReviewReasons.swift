import Foundation
import KeelData
import KeelLearn

/// The reason codes a review item carries: the model's own, top 3 each way; when they cannot be made, the
/// item says why instead of carrying nothing.
public enum ReviewReasons {
    public static func make(_ model: TrainedModel, frame: Frame, rows: [Int]) -> ([RowExplanation], String?) {
        do {
            return (try Explainer.reasonCodes(model, frame: frame, rows: rows, topK: 3), nil)
        } catch {
            return ([], "reason codes could not be computed: \(error)")
        }
    }

    /// `{"up": [...], "down": [...]}`, or `{"error": "..."}`.
    public static func json(_ reasons: [RowExplanation], _ index: Int, unexplained: String?) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard reasons.indices.contains(index) else {
            return String(decoding: try encoder.encode(["error": unexplained ?? "no reason codes for this row"]), as: UTF8.self)
        }
        return String(decoding: try encoder.encode(["up": reasons[index].up, "down": reasons[index].down]), as: UTF8.self)
    }
}
