using OpenQA.Selenium.Chrome;

namespace JobDedup.Worker.Tests.Support;

/// <summary>Debian's chromium, headless, driven through Debian's chromedriver; never downloads a browser or a driver.</summary>
public static class HeadlessChromium
{
    public const string Browser = "/usr/bin/chromium";
    public const string Driver = "/usr/bin/chromedriver";

    public static ChromeDriver Start(int width = 1440, int height = 1100)
    {
        Assert.True(
            File.Exists(Browser) && File.Exists(Driver),
            $"Chromium is not installed ({Browser} and {Driver} are needed). Install it with " +
            "`apt-get update && apt-get install -y chromium chromium-driver`; scripts/test.sh installs them when missing.");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(Driver)!, Path.GetFileName(Driver));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = Browser };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", $"--window-size={width},{height}", "--force-device-scale-factor=1");
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }
}
