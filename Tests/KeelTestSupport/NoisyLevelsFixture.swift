import KeelData

/// 1,500 customers whose label follows two numbers and the city (60 levels, about 25 rows each, strong
/// effects), with a surname (80 levels, about 19 rows each) that is noise: a column screen should keep the
/// city and drop the surname.
public enum NoisyLevelsFixture {
    public static let csv: String = {
        var g = SeededGenerator(seed: 21)
        let cityEffect = (0..<60).map { _ in g.nextUnit() * 3 - 1.5 }
        var lines = ["surname,city,x1,x2,label"]
        for _ in 0..<1500 {
            let city = g.next(below: 60)
            let (x1, x2) = (g.nextUnit() * 2 - 1, g.nextUnit() * 2 - 1)
            let logit = 2 * x1 - x2 + cityEffect[city] + (g.nextUnit() - 0.5)
            lines.append("name\(g.next(below: 80)),city\(city),\(x1),\(x2),\(logit > 0 ? "yes" : "no")")
        }
        return lines.joined(separator: "\n") + "\n"
    }()
}
