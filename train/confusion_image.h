// Confusion matrices drawn as one PNG, a panel per width: rows are the true
// classes, columns the predictions, each cell shaded by its share of the
// row's clips (white 0, dark blue 1). Titles give the width, top-1 and mean
// class accuracy. Where the cells are large enough the rows carry the class
// names, the columns their numbers, and the cells their counts; with
// hundreds of classes the cells shrink to a pixel or two and only the shading
// is left. Drawn with OpenCV, so every machine that trains can draw it.
//
// adaptive-train writes confusion.png (validation) beside report.json, and
// `adaptive-train evaluate --png FILE` the split it evaluated.
#pragma once

#include <string>
#include <vector>

#include "train/train_report.h"

namespace adaptive {

// Writes the PNG atomically (common/atomic_file.h). Throws
// std::invalid_argument when a width's matrix is not classes x classes, and
// std::runtime_error naming `path` when it cannot be written.
void write_confusion_png(const std::string& path, const std::vector<std::string>& classes,
                         const std::vector<WidthReport>& widths);

}  // namespace adaptive
