@main
struct GridboxSim {
    static func main() { print("gridbox-sim: not yet") }
}
