#include "server/case_fold.h"

#include <gtest/gtest.h>

namespace weft::server {
namespace {

TEST(CaseFoldTest, FoldsTheCapitalsOfLatinGreekAndCyrillic) {
  EXPECT_EQ(FoldCase("Hello World"), "hello world");
  EXPECT_EQ(FoldCase("ÜBER École ÆØÅ Þ"), "über école æøå þ");
  EXPECT_EQ(FoldCase("× ÷"), "× ÷");  // not letters
  EXPECT_EQ(FoldCase("ŁÓDŹ ĄĘ ŠŽČ Ő Ÿ"), "łódź ąę šžč ő ÿ");
  EXPECT_EQ(FoldCase("İstanbul"), "istanbul");
  EXPECT_EQ(FoldCase("ΟΔΥΣΣΕΥΣ Ώρα ς"), "οδυσσευσ ώρα σ");
  EXPECT_EQ(FoldCase("МОСКВА Ёлка ЇЖАК"), "москва ёлка їжак");
  EXPECT_EQ(FoldCase("STRAẞE"), "straße");
}

TEST(CaseFoldTest, KeepsWhatItDoesNotFoldAndBytesThatAreNotUtf8) {
  EXPECT_EQ(FoldCase("日本語 😀 ١٢٣"), "日本語 😀 ١٢٣");
  const std::string bad = {'A', '\xff', 'B', '\xc3'};
  EXPECT_EQ(FoldCase(bad), (std::string{'a', '\xff', 'b', '\xc3'}));
  EXPECT_EQ(FoldCase(""), "");
}

}  // namespace
}  // namespace weft::server
